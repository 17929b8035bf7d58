"""Credentials as clusters issue them, against the real kube-apiserver: a ServiceAccount token file the
kubelet rotates, exec plugins shaped like EKS, GKE and AKS (small real executables printing the
ExecCredential those plugins print), client certificates and TLS settings.

Tokens are real ServiceAccount tokens from the TokenRequest API: deleting a ServiceAccount makes the
API server refuse its token with 401, which is how the tests turn token A off and token B on."""

import base64
import contextlib
import json
import os
import socket
import stat
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from handoff.errors import ConfigError
from handoff.kube.client import (
    Connection,
    KubeClient,
    KubeError,
    KubeUnavailable,
    connect,
    in_cluster_connection,
    load_kubeconfig,
)
from handoff.kube.errors import CredentialError
from tests.harness.certs import client_cert

NS = "default"
FUTURE = "2099-01-01T00:00:00Z"
PAST = "2000-01-01T00:00:00Z"


@pytest.fixture
def admin(apiserver: Any) -> KubeClient:
    return connect(apiserver.kubeconfig)


class ServiceAccounts:
    def __init__(self, admin: KubeClient) -> None:
        self.admin = admin
        self.names: list[str] = []
        self.tokens: dict[str, str] = {}

    def token(self, name: str) -> str:
        """A token for a fresh ServiceAccount ``name`` bound to cluster-admin."""
        self.admin.apply({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "namespace": NS}})
        self.admin.apply({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                          "metadata": {"name": name},
                          "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                      "name": "cluster-admin"},
                          "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": NS}]})
        self.names.append(name)
        out = self.admin.request("POST", f"/api/v1/namespaces/{NS}/serviceaccounts/{name}/token", body={
            "apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {"expirationSeconds": 3600}})
        self.tokens[name] = str(out["status"]["token"])
        return self.tokens[name]

    def revoke(self, name: str) -> None:
        """Delete the ServiceAccount and wait until the API server refuses its token with 401 (it caches
        a token it accepted for a few seconds)."""
        self.admin.delete("v1", "ServiceAccount", name, NS)
        probe = KubeClient(Connection(server=self.admin.conn.server, token=self.tokens[name],
                                      ca_pem=self.admin.conn.ca_pem, ca_file=self.admin.conn.ca_file))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                whoami(probe)
            except KubeError as e:
                if e.status == 401:
                    return
                raise
            time.sleep(0.5)
        raise AssertionError(f"the token of {name} is still accepted after 60 s")

    def cleanup(self) -> None:
        for name in self.names:
            self.admin.delete("v1", "ServiceAccount", name, NS)
            self.admin.delete("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", name)


@pytest.fixture
def accounts(admin: KubeClient) -> Iterator[ServiceAccounts]:
    sa = ServiceAccounts(admin)
    yield sa
    sa.cleanup()


def whoami(client: KubeClient) -> str:
    review = client.request("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", body={
        "apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"})
    return str(review["status"]["userInfo"]["username"])


def uid() -> str:
    return uuid.uuid4().hex[:6]


# ---- the projected ServiceAccount token -----------------------------------------------------------------
def project(directory: Path, token: str) -> None:
    """Write ``token`` as the kubelet does: a new timestamped dir, and an atomic swap of the ..data link."""
    stamp = directory / f"..{uuid.uuid4().hex}"
    stamp.mkdir()
    (stamp / "token").write_text(token)
    tmp = directory / "..data_tmp"
    tmp.symlink_to(stamp.name)
    tmp.replace(directory / "..data")
    if not (directory / "token").is_symlink():
        (directory / "token").symlink_to("..data/token")


def in_cluster(apiserver: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, token: str) -> tuple[Path, KubeClient]:
    directory = tmp_path / "serviceaccount"
    directory.mkdir()
    project(directory, token)
    (directory / "ca.crt").write_bytes(Path(apiserver.ca_file).read_bytes())
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", str(apiserver.port))
    return directory, KubeClient(in_cluster_connection(directory))


def test_the_in_cluster_client_follows_the_kubelet_rotating_its_token(
        apiserver: Any, accounts: ServiceAccounts, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = f"rot-a-{uid()}", f"rot-b-{uid()}"
    directory, client = in_cluster(apiserver, tmp_path, monkeypatch, accounts.token(a))
    assert whoami(client) == f"system:serviceaccount:{NS}:{a}"
    project(directory, accounts.token(b))
    accounts.revoke(a)  # token A is refused from now on: only B works
    assert whoami(client) == f"system:serviceaccount:{NS}:{b}"  # same client, no restart


def test_a_401_re_reads_a_token_file_that_looks_unchanged(
        apiserver: Any, accounts: ServiceAccounts, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = f"unc-a-{uid()}", f"unc-b-{uid()}"
    token_a, token_b = accounts.token(a), accounts.token(b)
    size = max(len(token_a), len(token_b))
    directory, client = in_cluster(apiserver, tmp_path, monkeypatch, token_a.ljust(size))
    target = (directory / "token").resolve()
    target.write_text(token_a.ljust(size))
    assert whoami(client) == f"system:serviceaccount:{NS}:{a}"
    before = target.stat()
    with target.open("r+") as fh:  # same inode, same size, same mtime: only the 401 can tell
        fh.write(token_b.ljust(size))
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))
    accounts.revoke(a)
    assert whoami(client) == f"system:serviceaccount:{NS}:{b}"


def test_a_401_with_nothing_newer_is_the_api_servers_answer(
        apiserver: Any, accounts: ServiceAccounts, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a = f"gone-{uid()}"
    _, client = in_cluster(apiserver, tmp_path, monkeypatch, accounts.token(a))
    accounts.revoke(a)
    with pytest.raises(KubeError) as e:
        whoami(client)
    assert e.value.status == 401


def test_a_pod_without_a_token_fails_naming_the_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
    with pytest.raises(CredentialError, match=r"serviceaccount/token.*cannot read token file"):
        in_cluster_connection(tmp_path / "serviceaccount")


# ---- exec plugins ---------------------------------------------------------------------------------------
def plugin(bin_dir: Path, name: str, *, api_version: str = "client.authentication.k8s.io/v1beta1",
           spec: str = "{}", expires: str = FUTURE, extra: str = "") -> Path:
    """A real executable printing what ``name`` prints: ``{"kind": "ExecCredential", "apiVersion": ...,
    "spec": ..., "status": {"expirationTimestamp": ..., "token": ...}}``, the token read from
    ``<bin>/<name>.token`` (so a test can rotate it); each run appends its argv and environment to
    ``<bin>/<name>.runs``."""
    bin_dir.mkdir(exist_ok=True)
    path = bin_dir / name
    path.write_text(f"""#!{sys.executable}
import json, os, sys
from pathlib import Path
here = Path(__file__).parent
with open(here / "{name}.runs", "a") as fh:
    fh.write(json.dumps({{"argv": sys.argv[1:], "env": dict(os.environ)}}) + "\\n")
status = {{"expirationTimestamp": "{expires}", "token": (here / "{name}.token").read_text()}}
{extra}
print(json.dumps({{"kind": "ExecCredential", "apiVersion": "{api_version}", "spec": {spec}, "status": status}}))
""")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def runs(bin_dir: Path, name: str) -> list[dict[str, Any]]:
    path = bin_dir / f"{name}.runs"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def kubeconfig(tmp_path: Path, apiserver: Any, user: str, *, cluster: str = "") -> Path:
    path = tmp_path / f"kubeconfig-{uid()}"
    path.write_text(f"""apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
    server: {apiserver.url}
    certificate-authority: {apiserver.ca_file}
{cluster}contexts:
- name: ctx
  context: {{cluster: c, user: u}}
current-context: ctx
users:
- name: u
  user:
{user}""")
    return path


EKS_USER = """    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: aws
      args: [--region, eu-west-1, eks, get-token, --cluster-name, prod, --output, json]
      env:
      - name: AWS_PROFILE
        value: prod-admin
      interactiveMode: IfAvailable
      provideClusterInfo: false
"""

GKE_USER = """    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: gke-gcloud-auth-plugin
      installHint: Install gke-gcloud-auth-plugin for use with kubectl by following
        https://cloud.google.com/kubernetes-engine/docs/how-to/cluster-access-for-kubectl#install_plugin
      provideClusterInfo: true
      interactiveMode: IfAvailable
"""

AKS_USER = """    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: kubelogin
      args: [get-token, --login, azurecli, --server-id, 6dae42f8-4368-4678-94ff-3960e28e3630]
      env: null
      installHint: kubelogin is not installed which is required to connect to AAD enabled cluster.
      provideClusterInfo: false
"""


@pytest.fixture
def bin_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "bin"
    path.mkdir()
    monkeypatch.setenv("PATH", f"{path}{os.pathsep}{os.environ.get('PATH', os.defpath)}")
    return path


def test_an_eks_context_runs_aws_eks_get_token_once_per_credential(
        apiserver: Any, accounts: ServiceAccounts, tmp_path: Path, bin_dir: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    name = f"eks-{uid()}"
    plugin(bin_dir, "aws")
    (bin_dir / "aws.token").write_text(accounts.token(name))
    monkeypatch.setenv("HANDOFF_TEST_OPERATOR_ENV", "kept")
    client = connect(kubeconfig(tmp_path, apiserver, EKS_USER))
    assert whoami(client) == f"system:serviceaccount:{NS}:{name}"
    assert client.get("v1", "Namespace", "default") is not None
    assert whoami(client.impersonating(f"system:serviceaccount:{NS}:{name}")) == \
        f"system:serviceaccount:{NS}:{name}"  # impersonating clients share the cached credential
    [run] = runs(bin_dir, "aws")  # cached until its expirationTimestamp
    assert run["argv"] == ["--region", "eu-west-1", "eks", "get-token", "--cluster-name", "prod", "--output", "json"]
    assert run["env"]["AWS_PROFILE"] == "prod-admin"  # the kubeconfig's env ...
    assert run["env"]["HANDOFF_TEST_OPERATOR_ENV"] == "kept"  # ... on top of the operator's, as kubectl does
    info = json.loads(run["env"]["KUBERNETES_EXEC_INFO"])
    assert info == {"apiVersion": "client.authentication.k8s.io/v1beta1", "kind": "ExecCredential",
                    "spec": {"interactive": False}}


def test_a_gke_context_gets_cluster_info_and_reruns_when_the_credential_expired(
        apiserver: Any, accounts: ServiceAccounts, tmp_path: Path, bin_dir: Path) -> None:
    name = f"gke-{uid()}"
    plugin(bin_dir, "gke-gcloud-auth-plugin", spec='{"interactive": False}', expires=PAST)
    (bin_dir / "gke-gcloud-auth-plugin.token").write_text(accounts.token(name))
    client = connect(kubeconfig(tmp_path, apiserver, GKE_USER, cluster="    tls-server-name: localhost\n"))
    assert whoami(client) == f"system:serviceaccount:{NS}:{name}"
    assert whoami(client) == f"system:serviceaccount:{NS}:{name}"
    seen = runs(bin_dir, "gke-gcloud-auth-plugin")
    assert len(seen) == 2  # expired at once: fetched anew for each request
    cluster = json.loads(seen[0]["env"]["KUBERNETES_EXEC_INFO"])["spec"]["cluster"]
    assert cluster["server"] == apiserver.url
    assert cluster["tls-server-name"] == "localhost"
    assert "BEGIN CERTIFICATE" in base64.b64decode(cluster["certificate-authority-data"]).decode()


def test_an_aks_kubelogin_credential_revoked_before_its_expiry_is_fetched_anew_on_401(
        apiserver: Any, accounts: ServiceAccounts, tmp_path: Path, bin_dir: Path) -> None:
    a, b = f"aks-a-{uid()}", f"aks-b-{uid()}"
    plugin(bin_dir, "kubelogin", spec='{"interactive": False}')
    (bin_dir / "kubelogin.token").write_text(accounts.token(a))
    client = connect(kubeconfig(tmp_path, apiserver, AKS_USER))
    assert whoami(client) == f"system:serviceaccount:{NS}:{a}"
    (bin_dir / "kubelogin.token").write_text(accounts.token(b))
    assert whoami(client) == f"system:serviceaccount:{NS}:{a}"  # still cached
    accounts.revoke(a)
    assert whoami(client) == f"system:serviceaccount:{NS}:{b}"
    assert len(runs(bin_dir, "kubelogin")) == 2
    assert runs(bin_dir, "kubelogin")[0]["argv"][:3] == ["get-token", "--login", "azurecli"]


def test_an_exec_plugin_may_hand_out_a_client_certificate(apiserver: Any, tmp_path: Path, bin_dir: Path) -> None:
    cert, key = client_cert(apiserver.certs, "exec-cert-user", ("system:masters",))
    (bin_dir / "certs.token").write_text("")
    plugin(bin_dir, "certs", api_version="client.authentication.k8s.io/v1", spec='{"interactive": False}',
           extra=f"status = {{'clientCertificateData': {cert.decode()!r}, 'clientKeyData': {key.decode()!r}}}")
    user = ("    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: certs\n"
            "      interactiveMode: Never\n")
    client = connect(kubeconfig(tmp_path, apiserver, user))
    assert whoami(client) == "exec-cert-user"


# ---- client certificates and TLS settings ---------------------------------------------------------------
def own_temp_entries() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("handoff-kube-*")}


def test_an_aks_client_certificate_context_leaves_no_key_on_disk(apiserver: Any, tmp_path: Path) -> None:
    cert, key = client_cert(apiserver.certs, "aks-cert-user", ("system:masters",))
    before = own_temp_entries()
    user = (f"    client-certificate-data: {base64.b64encode(cert).decode()}\n"
            f"    client-key-data: {base64.b64encode(key).decode()}\n")
    client = connect(kubeconfig(tmp_path, apiserver, user))
    assert whoami(client) == "aks-cert-user"
    assert own_temp_entries() <= before  # loaded into the TLS context; no certificate or key file left behind


def test_client_certificate_files_relative_to_the_kubeconfig(apiserver: Any, tmp_path: Path) -> None:
    cert, key = client_cert(apiserver.certs, "file-cert-user", ("system:masters",))
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs" / "u.crt").write_bytes(cert)
    (tmp_path / "certs" / "u.key").write_bytes(key)
    client = connect(kubeconfig(tmp_path, apiserver, "    client-certificate: certs/u.crt\n"
                                                     "    client-key: certs/u.key\n"))
    assert whoami(client) == "file-cert-user"


def test_tls_server_name_is_the_name_checked(apiserver: Any, tmp_path: Path) -> None:
    user = f"    token: {apiserver.token}\n"
    ok = connect(kubeconfig(tmp_path, apiserver, user, cluster="    tls-server-name: kubernetes.default.svc\n"))
    assert whoami(ok) == "handoff-admin"
    wrong = connect(kubeconfig(tmp_path, apiserver, user, cluster="    tls-server-name: wrong.example\n"))
    with pytest.raises(KubeUnavailable):
        whoami(wrong)


def test_insecure_skip_tls_verify_needs_no_ca(apiserver: Any, tmp_path: Path) -> None:
    path = tmp_path / "insecure"
    path.write_text(f"clusters: [{{name: c, cluster: {{server: '{apiserver.url}', insecure-skip-tls-verify: true}}}}]\n"
                    f"users: [{{name: u, user: {{token: {apiserver.token}}}}}]\n"
                    "contexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n")
    assert whoami(connect(path)) == "handoff-admin"
    path.write_text(path.read_text().replace(", insecure-skip-tls-verify: true", ""))
    with pytest.raises(KubeUnavailable):  # the system CAs do not know the test CA
        whoami(connect(path))


class ConnectProxy:
    """An HTTP CONNECT proxy on 127.0.0.1 that records the targets it tunnelled to."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}"
        self.tunnels: list[str] = []
        self._accepting = threading.Thread(target=self._serve, daemon=True)
        self._accepting.start()

    def close(self) -> None:
        # close() alone leaves the accepting thread blocked in accept(); in the full suite it later took
        # the listening socket that reused its descriptor (another test's git server) and swallowed a
        # request, so a git fetch there hung for 300 s. shutdown() wakes accept(), then nothing remains.
        with contextlib.suppress(OSError):
            self.server.shutdown(socket.SHUT_RDWR)
        self.server.close()
        self._accepting.join(timeout=5)
        assert not self._accepting.is_alive()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self._tunnel, args=(conn,), daemon=True).start()

    def _tunnel(self, conn: socket.socket) -> None:
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = conn.recv(4096)
            if not chunk:
                conn.close()
                return
            head += chunk
        method, target = head.split(b" ")[:2]
        if method != b"CONNECT" or b":" not in target:
            conn.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            conn.close()
            return
        self.tunnels.append(target.decode())
        host, port = target.decode().rsplit(":", 1)
        upstream = socket.create_connection((host, int(port)))
        conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        for a, b in ((conn, upstream), (upstream, conn)):
            threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)


def test_proxy_url_tunnels_to_the_api_server(apiserver: Any, tmp_path: Path) -> None:
    proxy = ConnectProxy()
    try:
        client = connect(kubeconfig(tmp_path, apiserver, f"    token: {apiserver.token}\n",
                                    cluster=f"    proxy-url: {proxy.url}\n"))
        assert whoami(client) == "handoff-admin"
        assert proxy.tunnels == [f"127.0.0.1:{apiserver.port}"]
    finally:
        proxy.close()


# ---- errors a user can cause: one line naming the file and the key --------------------------------------
def bad(tmp_path: Path, user: str) -> Path:
    path = tmp_path / "kubeconfig"
    path.write_text("clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\n"
                    "contexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n"
                    f"users:\n- name: u\n  user:\n{user}")
    return path


def one_line(e: BaseException) -> str:
    text = str(e)
    assert "\n" not in text
    return text


def test_a_missing_plugin_names_the_key_and_the_install_hint(
        tmp_path: Path, bin_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(bin_dir))  # this machine may have the real plugin installed
    path = bad(tmp_path, GKE_USER)
    with pytest.raises(ConfigError) as e:
        connect(path)
    assert one_line(e.value).startswith(f"{path}: at users[u].user.exec.command: exec plugin "
                                        "'gke-gcloud-auth-plugin' not found")
    assert "Install gke-gcloud-auth-plugin" in str(e.value)


@pytest.mark.parametrize(("extra", "message"), [
    ("sys.stderr.write('token expired, run aws sso login\\n'); sys.exit(255)",
     "exec plugin aws: exited 255: token expired, run aws sso login"),
    ("print('not json'); sys.exit(0)", "not JSON"),
    ("print(json.dumps({'kind': 'Secret'})); sys.exit(0)", "kind is not ExecCredential"),
    ("status = {}", "neither a token nor a client certificate"),
    ("status = {'clientCertificateData': 'x'}", "needs both clientCertificateData and clientKeyData"),
    ("status['expirationTimestamp'] = 'tomorrow'", "not an RFC 3339 time"),
])
def test_a_failing_or_malformed_plugin_is_one_line_naming_the_kubeconfig(
        tmp_path: Path, bin_dir: Path, extra: str, message: str) -> None:
    plugin(bin_dir, "aws", extra=extra)
    (bin_dir / "aws.token").write_text("t")
    path = bad(tmp_path, EKS_USER)
    with pytest.raises(CredentialError) as e:
        connect(path).get("v1", "Namespace", "default")
    assert one_line(e.value).startswith(f"{path}: at users[u].user.exec: ")
    assert message in str(e.value)


def test_a_plugin_answering_another_api_version_is_refused(tmp_path: Path, bin_dir: Path) -> None:
    plugin(bin_dir, "aws", api_version="client.authentication.k8s.io/v1")
    (bin_dir / "aws.token").write_text("t")
    with pytest.raises(CredentialError, match=r"printed apiVersion 'client\.authentication\.k8s\.io/v1'"):
        connect(bad(tmp_path, EKS_USER)).get("v1", "Namespace", "default")


@pytest.mark.parametrize(("user", "key", "message"), [
    ("    exec: {apiVersion: client.authentication.k8s.io/v1, command: aws}\n",
     "users[u].user.exec.interactiveMode", "interactiveMode must be set"),
    ("    exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: aws, interactiveMode: Always}\n",
     "users[u].user.exec.interactiveMode", "needs a terminal"),
    ("    exec: {apiVersion: client.authentication.k8s.io/v1alpha1, command: aws}\n",
     "users[u].user.exec.apiVersion", "unsupported exec apiVersion"),
    ("    auth-provider: {name: gcp}\n", "users[u].user.auth-provider", "use an exec plugin"),
    ("    client-certificate-data: bm90IGEgY2VydA==\n", "users[u].user.client-key", "needs both"),
    ("    client-key-data: '%%%'\n", "users[u].user.client-key-data", "not valid base64"),
    ("    tokenFile: missing-token\n", "users[u].user.tokenFile", "cannot read token file"),
])
def test_a_bad_user_entry_names_its_key(tmp_path: Path, user: str, key: str, message: str) -> None:
    path = bad(tmp_path, user)
    with pytest.raises(ConfigError) as e:
        connect(path)
    assert one_line(e.value).startswith(f"{path}: at {key}: ")
    assert message in str(e.value)


def test_a_missing_context_or_cluster_names_its_key(tmp_path: Path) -> None:
    path = bad(tmp_path, "    token: t\n")
    with pytest.raises(ConfigError, match=r"at contexts: no context named 'nope'"):
        load_kubeconfig(path, "nope")
    path.write_text(path.read_text().replace("cluster: c,", "cluster: d,"))
    with pytest.raises(ConfigError, match=r"at contexts\[x\].context.cluster: no cluster named 'd'"):
        connect(path)


def test_a_socks_proxy_is_refused_naming_its_key(tmp_path: Path) -> None:
    path = bad(tmp_path, "    token: t\n")
    path.write_text(path.read_text().replace("server: 'https://127.0.0.1:1'",
                                             "server: 'https://127.0.0.1:1', proxy-url: 'socks5://127.0.0.1:1080'"))
    with pytest.raises(ConfigError, match=r"at clusters\[c\]\.cluster\.proxy-url: only http:// and https://"):
        connect(path)
