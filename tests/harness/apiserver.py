"""etcd + kube-apiserver on 127.0.0.1: the real Kubernetes API with RBAC, and no controllers at all.

Nothing but the API server runs: no kube-controller-manager, scheduler or kubelet. So no Pods are scheduled or run,
a Deployment's status stays empty, a deleted Namespace stays Terminating, and no ServiceAccount or token is created
for you (the ServiceAccount admission plugin is off, so Pods can still be created). CRDs become Established,
server-side apply, dry-run, managedFields, Leases and RBAC all behave as in a real cluster.
"""

import secrets
import ssl
from pathlib import Path

from tests.harness.certs import write_serving_certs
from tests.harness.http import is_ok
from tests.harness.ports import free_port
from tests.harness.process import ServerProcess, clean_env

ADMIN_USER = "handoff-admin"
ADMIN_GROUP = "system:masters"
STARTUP_TIMEOUT = 180.0


class ApiServer:
    """A running kube-apiserver backed by its own etcd; ``kubeconfig`` authenticates as a cluster admin."""

    def __init__(self, kube_apiserver: Path, etcd: Path, workdir: Path) -> None:
        self.workdir = workdir
        self.token = secrets.token_urlsafe(24)
        self.port = free_port()
        self.url = f"https://127.0.0.1:{self.port}"
        etcd_client, etcd_peer = free_port(), free_port()
        self.etcd_url = f"http://127.0.0.1:{etcd_client}"

        certs = write_serving_certs(workdir)
        self.certs = certs
        self.ca_file = certs.ca_file
        token_file = workdir / "tokens.csv"
        token_file.write_text(f'{self.token},{ADMIN_USER},{ADMIN_USER},"{ADMIN_GROUP}"\n')
        token_file.chmod(0o600)
        self.kubeconfig = workdir / "kubeconfig"
        self.kubeconfig.write_text(self._kubeconfig_text())
        self.kubeconfig.chmod(0o600)

        env = clean_env()
        self._etcd = ServerProcess(
            "etcd",
            [
                str(etcd),
                "--name=handoff-test",
                f"--data-dir={workdir / 'etcd-data'}",
                f"--listen-client-urls={self.etcd_url}",
                f"--advertise-client-urls={self.etcd_url}",
                f"--listen-peer-urls=http://127.0.0.1:{etcd_peer}",
                f"--initial-advertise-peer-urls=http://127.0.0.1:{etcd_peer}",
                f"--initial-cluster=handoff-test=http://127.0.0.1:{etcd_peer}",
                "--unsafe-no-fsync",  # test data: durability across power loss does not matter, speed does
                "--log-level=warn",
            ],
            workdir / "etcd.log",
            env,
        )
        self._apiserver = ServerProcess(
            "kube-apiserver",
            [
                str(kube_apiserver),
                f"--etcd-servers={self.etcd_url}",
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                f"--secure-port={self.port}",
                f"--tls-cert-file={certs.cert_file}",
                f"--tls-private-key-file={certs.key_file}",
                f"--client-ca-file={certs.ca_file}",
                f"--token-auth-file={token_file}",
                "--authorization-mode=RBAC",
                f"--service-account-key-file={certs.service_account_key_file}",
                f"--service-account-signing-key-file={certs.service_account_key_file}",
                "--service-account-issuer=https://kubernetes.default.svc",
                "--service-cluster-ip-range=10.96.0.0/16",
                "--disable-admission-plugins=ServiceAccount",
                f"--cert-dir={workdir / 'cert-dir'}",
                "--allow-privileged=true",
                "--profiling=false",
                "--v=1",
            ],
            workdir / "kube-apiserver.log",
            env,
        )

    def _kubeconfig_text(self) -> str:
        return (
            "apiVersion: v1\n"
            "kind: Config\n"
            "clusters:\n"
            "- name: handoff-test\n"
            "  cluster:\n"
            f"    server: {self.url}\n"
            f"    certificate-authority: {self.ca_file}\n"
            "users:\n"
            f"- name: {ADMIN_USER}\n"
            "  user:\n"
            f"    token: {self.token}\n"
            "contexts:\n"
            "- name: handoff-test\n"
            "  context:\n"
            "    cluster: handoff-test\n"
            f"    user: {ADMIN_USER}\n"
            "current-context: handoff-test\n"
        )

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file))

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def _etcd_healthy(self) -> bool:
        return is_ok(f"{self.etcd_url}/health")

    def _apiserver_ready(self) -> bool:
        return is_ok(f"{self.url}/readyz", headers=self.auth_headers(), context=self.ssl_context())

    def start_etcd(self) -> None:
        """Start etcd (same data); when kube-apiserver runs, also wait until it is ready again."""
        self._etcd.start()
        self._etcd.wait_until(self._etcd_healthy, 60, "healthy")
        if self._apiserver.running:
            self.wait_ready()

    def wait_ready(self, timeout: float = STARTUP_TIMEOUT) -> None:
        """Wait until /readyz answers ok (fails with the log tail if kube-apiserver exits or times out)."""
        self._apiserver.wait_until(self._apiserver_ready, timeout, "ready (/readyz)")

    def stop_etcd(self) -> None:
        self._etcd.stop()

    def start(self) -> None:
        self.start_etcd()
        self._apiserver.start()
        self.wait_ready()

    def restart(self) -> None:
        """Restart kube-apiserver only: same port, certificates, token and etcd data."""
        self._apiserver.stop()
        self._apiserver.start()
        self.wait_ready()

    def stop(self) -> None:
        self._apiserver.stop()
        self._etcd.stop()

    def logs(self, lines: int = 60) -> str:
        return (
            f"--- kube-apiserver ({self._apiserver.log_file}):\n{self._apiserver.log_tail(lines)}\n"
            f"--- etcd ({self._etcd.log_file}):\n{self._etcd.log_tail(lines)}"
        )
