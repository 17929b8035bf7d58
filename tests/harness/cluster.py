"""A test cluster where workloads run: etcd + kube-apiserver + kube-controller-manager + kube-scheduler + KWOK.

KWOK (sigs.k8s.io/kwok) plays the kubelet for fake Nodes: no container runs, but pods are scheduled, go
Pending -> Running -> Ready, Job pods then succeed, and every controller-produced status is the real one:
Deployments produce ReplicaSets and fill ``status`` (``availableReplicas``, conditions ``Available`` /
``Progressing``, ``ProgressDeadlineExceeded``), StatefulSets and DaemonSets roll out, Jobs complete or fail on
their ``backoffLimit``, ServiceAccounts are created per namespace, and deleting a Namespace finalises it.

Use it through the session fixture ``workload_cluster`` (tests/harness/fixtures.py); it starts only when a test
asks for it (about half a minute on a loaded machine), the plain ``apiserver`` fixture stays for tests that need
no workloads::

    def test_rollout(workload_cluster: WorkloadCluster) -> None:
        workload_cluster.kubeconfig          # admin kubeconfig (system:masters), like ApiServer.kubeconfig
        workload_cluster.api                 # the underlying ApiServer (url, ca_file, auth_headers(), ...)
        workload_cluster.fail_pods("example.test/broken:1")      # its pods crash (never Ready; Jobs: Failed)
        workload_cluster.keep_pods_unready("example.test/slow:1")  # its pods run but never become Ready

Pod behaviour is chosen by container image: ``fail_pods`` / ``keep_pods_unready`` create a KWOK Stage that matches
pods with any container of that exact image (tag or digest reference, as written in the pod spec) and wins over
the default "ready at once" stage; pods of any other image become Ready. Call it before the pods exist (pods
already Ready stay Ready); ``restore_pods(image)`` removes the override again. Use an image name unique to your
test, since the fixture is shared by the session. Fake nodes carry no taints, so pods need no tolerations; all of
them have the annotation ``kwok.x-k8s.io/node=fake``, the selector KWOK manages nodes by.
"""

import re
import ssl
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import kubernetes
import yaml

from tests.harness.apiserver import ApiServer
from tests.harness.http import is_ok
from tests.harness.ports import free_port
from tests.harness.process import ServerProcess, clean_env

KWOK_DIR = Path(__file__).parent / "kwok"
NODE_ANNOTATION = ("kwok.x-k8s.io/node", "fake")
NODE_NAMES = ("kwok-node-0", "kwok-node-1")
STAGE_API = ("kwok.x-k8s.io", "v1alpha1", "stages")
STARTUP_TIMEOUT = 180.0
WORKLOAD_TOOLS = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok")

# Pods of a failing image crash like a real container: with restartPolicy Always they keep running unready in
# CrashLoopBackOff (a Deployment's rollout stalls); with Never/OnFailure they end Failed (a Job counts a failure).
_FAIL_TEMPLATE = """\
{{ $now := Now }}
conditions:
- lastTransitionTime: {{ $now | Quote }}
  status: "True"
  type: Initialized
- lastTransitionTime: {{ $now | Quote }}
  status: "False"
  reason: ContainersNotReady
  type: Ready
- lastTransitionTime: {{ $now | Quote }}
  status: "False"
  reason: ContainersNotReady
  type: ContainersReady
containerStatuses:
{{ range .spec.containers }}
- image: {{ .image | Quote }}
  name: {{ .name | Quote }}
  ready: false
  restartCount: 1
  {{ if eq $.spec.restartPolicy "Always" }}
  state:
    waiting:
      reason: CrashLoopBackOff
      message: back-off restarting failed container (handoff test harness)
  {{ else }}
  state:
    terminated:
      exitCode: 1
      reason: Error
      startedAt: {{ $now | Quote }}
      finishedAt: {{ $now | Quote }}
  {{ end }}
{{ end }}
{{ if eq .spec.restartPolicy "Always" }}
phase: Running
{{ else }}
phase: Failed
{{ end }}
startTime: {{ $now | Quote }}
"""

_UNREADY_TEMPLATE = """\
{{ $now := Now }}
conditions:
- lastTransitionTime: {{ $now | Quote }}
  status: "True"
  type: Initialized
- lastTransitionTime: {{ $now | Quote }}
  status: "False"
  reason: ContainersNotReady
  type: Ready
- lastTransitionTime: {{ $now | Quote }}
  status: "False"
  reason: ContainersNotReady
  type: ContainersReady
containerStatuses:
{{ range .spec.containers }}
- image: {{ .image | Quote }}
  name: {{ .name | Quote }}
  ready: false
  restartCount: 0
  started: true
  state:
    running:
      startedAt: {{ $now | Quote }}
{{ end }}
phase: Running
startTime: {{ $now | Quote }}
"""


def _stage_name(image: str) -> str:
    return "handoff-image-" + re.sub(r"[^a-z0-9]+", "-", image.lower()).strip("-")[:200]


def _image_stage(image: str, template: str) -> dict[str, Any]:
    return {
        "apiVersion": "kwok.x-k8s.io/v1alpha1",
        "kind": "Stage",
        "metadata": {"name": _stage_name(image)},
        "spec": {
            "resourceRef": {"apiGroup": "v1", "kind": "Pod"},
            "selector": {"matchExpressions": [
                {"key": ".metadata.deletionTimestamp", "operator": "DoesNotExist"},
                {"key": ".status.phase", "operator": "In", "values": ["Pending"]},
                {"key": ".spec.containers.[].image", "operator": "In", "values": [image]},
            ]},
            # the default pod-ready stage has no weight: a matching stage with a weight is always chosen over it
            "weight": 1,
            "next": {"statusTemplate": template},
        },
    }


def _fake_node(name: str) -> dict[str, Any]:
    key, value = NODE_ANNOTATION
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "annotations": {key: value},
                     "labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
                                "kubernetes.io/arch": "amd64", "type": "kwok"}},
        "status": {"allocatable": {"cpu": "32", "memory": "256Gi", "pods": "110"},
                   "capacity": {"cpu": "32", "memory": "256Gi", "pods": "110"}},
    }


class WorkloadCluster:
    """A running workload cluster; see the module docstring for how tests use it."""

    def __init__(self, tools: dict[str, Path], workdir: Path) -> None:
        self.workdir = workdir
        self.api = ApiServer(tools["kube-apiserver"], tools["etcd"], workdir)
        self.kubeconfig = self.api.kubeconfig
        self._controller_manager_port, self._scheduler_port = free_port(), free_port()
        env = clean_env()
        self._controller_manager = ServerProcess(
            "kube-controller-manager",
            [
                str(tools["kube-controller-manager"]),
                f"--kubeconfig={self.kubeconfig}",
                "--bind-address=127.0.0.1",
                f"--secure-port={self._controller_manager_port}",
                f"--cert-dir={workdir / 'controller-manager-certs'}",
                f"--service-account-private-key-file={self.api.service_account_key_file}",
                f"--root-ca-file={self.api.ca_file}",
                "--controllers=*",
                "--use-service-account-credentials=false",
                "--leader-elect=false",
                "--profiling=false",
                "--v=1",
            ],
            workdir / "kube-controller-manager.log",
            env,
        )
        self._scheduler = ServerProcess(
            "kube-scheduler",
            [
                str(tools["kube-scheduler"]),
                f"--kubeconfig={self.kubeconfig}",
                f"--authentication-kubeconfig={self.kubeconfig}",
                f"--authorization-kubeconfig={self.kubeconfig}",
                "--bind-address=127.0.0.1",
                f"--secure-port={self._scheduler_port}",
                f"--cert-dir={workdir / 'scheduler-certs'}",
                "--leader-elect=false",
                "--profiling=false",
                "--v=1",
            ],
            workdir / "kube-scheduler.log",
            env,
        )
        key, value = NODE_ANNOTATION
        self._kwok = ServerProcess(
            "kwok",
            [
                str(tools["kwok"]),
                f"--kubeconfig={self.kubeconfig}",
                "--enable-crds=Stage",
                "--manage-all-nodes=false",
                f"--manage-nodes-with-annotation-selector={key}={value}",
                "--node-lease-duration-seconds=40",
                "--cidr=10.244.0.0/16",
                "--node-ip=10.0.0.1",
            ],
            workdir / "kwok.log",
            # a HOME of its own: no ~/.kwok/kwok.yaml, so KWOK's defaults and only the Stage objects count
            {**env, "HOME": str(workdir)},
        )
        self._client: kubernetes.client.ApiClient | None = None

    # --- lifecycle

    def start(self) -> None:
        self.api.start()
        self._create_all(yaml.safe_load_all((KWOK_DIR / "stage-crd.yaml").read_text()))
        self.api.wait_until(self._stage_api_established, STARTUP_TIMEOUT, "serving the KWOK Stage API")
        self._create_all(yaml.safe_load_all((KWOK_DIR / "stages.yaml").read_text()))
        self._controller_manager.start()
        self._scheduler.start()
        self._kwok.start()
        self._controller_manager.wait_until(lambda: self._healthy(self._controller_manager_port),
                                            STARTUP_TIMEOUT, "healthy (/healthz)")
        self._scheduler.wait_until(lambda: self._healthy(self._scheduler_port), STARTUP_TIMEOUT,
                                   "healthy (/healthz)")
        self._create_all(_fake_node(name) for name in NODE_NAMES)
        self._kwok.wait_until(self._nodes_ready, STARTUP_TIMEOUT, "managing the fake nodes (Ready)")
        self._controller_manager.wait_until(self._default_service_account, STARTUP_TIMEOUT,
                                            "creating the default ServiceAccount")

    def stop(self) -> None:
        for process in (self._kwok, self._scheduler, self._controller_manager):
            process.stop()
        self.api.stop()

    def logs(self, lines: int = 60) -> str:
        parts = [self.api.logs(lines)]
        for process in (self._controller_manager, self._scheduler, self._kwok):
            parts.append(f"--- {process.name} ({process.log_file}):\n{process.log_tail(lines)}")
        return "\n".join(parts)

    # --- pod behaviour per image

    def fail_pods(self, image: str) -> None:
        """Pods with a container of ``image`` crash: never Ready (restartPolicy Always), else phase Failed."""
        self._put_stage(_image_stage(image, _FAIL_TEMPLATE))

    def keep_pods_unready(self, image: str) -> None:
        """Pods with a container of ``image`` run but never become Ready."""
        self._put_stage(_image_stage(image, _UNREADY_TEMPLATE))

    def restore_pods(self, image: str) -> None:
        """Pods of ``image`` created from now on become Ready again."""
        self._delete_stage(_stage_name(image))

    # --- helpers

    @property
    def client(self) -> kubernetes.client.ApiClient:
        """A Kubernetes API client (admin) for the cluster."""
        if self._client is None:
            self._client = kubernetes.config.new_client_from_config(  # type: ignore[no-untyped-call]
                config_file=str(self.kubeconfig))
        return self._client

    def _put_stage(self, stage: dict[str, Any]) -> None:
        self._delete_stage(stage["metadata"]["name"])
        group, version, plural = STAGE_API
        kubernetes.client.CustomObjectsApi(self.client).create_cluster_custom_object(group, version, plural, stage)

    def _delete_stage(self, name: str) -> None:
        group, version, plural = STAGE_API
        try:
            kubernetes.client.CustomObjectsApi(self.client).delete_cluster_custom_object(group, version, plural,
                                                                                          name)
        except kubernetes.client.ApiException as e:
            if e.status != 404:
                raise

    def _create_all(self, objects: Iterable[dict[str, Any] | None]) -> None:
        group, version, plural = STAGE_API
        for obj in objects:
            if not obj:
                continue
            if obj["kind"] == "Stage":
                kubernetes.client.CustomObjectsApi(self.client).create_cluster_custom_object(
                    group, version, plural, obj)
            else:
                kubernetes.utils.create_from_dict(self.client, obj)

    def _stage_api_established(self) -> bool:
        try:
            crd = kubernetes.client.ApiextensionsV1Api(self.client).read_custom_resource_definition(
                "stages.kwok.x-k8s.io")
        except kubernetes.client.ApiException:
            return False
        return any(c.type == "Established" and c.status == "True" for c in (crd.status.conditions or []))

    def _healthy(self, port: int) -> bool:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE  # the component's self-signed serving cert; only /healthz is read
        return is_ok(f"https://127.0.0.1:{port}/healthz", context=context)

    def _nodes_ready(self) -> bool:
        nodes = kubernetes.client.CoreV1Api(self.client).list_node().items
        ready = [n for n in nodes
                 if any(c.type == "Ready" and c.status == "True" for c in (n.status.conditions or []))]
        return len(ready) == len(NODE_NAMES)

    def _default_service_account(self) -> bool:
        try:
            kubernetes.client.CoreV1Api(self.client).read_namespaced_service_account("default", "default")
        except kubernetes.client.ApiException:
            return False
        return True
