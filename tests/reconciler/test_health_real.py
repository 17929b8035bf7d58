"""health() against status written by the real controllers (kube-controller-manager + KWOK-run pods), not by hand.

Each test drives a workload in the shared workload cluster and waits, generously, for health() to reach the
expected state; no test asserts how long it took.
"""

import time
import uuid
from collections.abc import Callable
from typing import Any

import kubernetes
import pytest

from handoff.reconciler.health import DEGRADED, HEALTHY, Health, health
from handoff.report.model import ObjectRef
from tests.harness.cluster import WorkloadCluster

pytestmark = [pytest.mark.tools, pytest.mark.slow]

TIMEOUT = 300.0


def _namespace(cluster: WorkloadCluster) -> str:
    name = f"health-{uuid.uuid4().hex[:8]}"
    kubernetes.client.CoreV1Api(cluster.client).create_namespace({"metadata": {"name": name}})
    return name


def _dynamic(cluster: WorkloadCluster) -> kubernetes.dynamic.DynamicClient:
    return kubernetes.dynamic.DynamicClient(cluster.client)


def _create(cluster: WorkloadCluster, obj: dict[str, Any], namespace: str | None = None) -> ObjectRef:
    resource = _dynamic(cluster).resources.get(api_version=obj["apiVersion"], kind=obj["kind"])
    resource.create(body=obj, namespace=namespace)
    return ObjectRef(obj["apiVersion"], obj["kind"], obj["metadata"]["name"], namespace or "")


def _patch(cluster: WorkloadCluster, ref: ObjectRef, patch: dict[str, Any]) -> None:
    resource = _dynamic(cluster).resources.get(api_version=ref.api_version, kind=ref.kind)
    resource.patch(body=patch, name=ref.name, namespace=ref.namespace or None, content_type="application/merge-patch+json")


def _live(cluster: WorkloadCluster, ref: ObjectRef) -> dict[str, Any]:
    resource = _dynamic(cluster).resources.get(api_version=ref.api_version, kind=ref.kind)
    live: dict[str, Any] = resource.get(name=ref.name, namespace=ref.namespace or None).to_dict()
    return live


def _wait_for(cluster: WorkloadCluster, ref: ObjectRef, state: str,
              also: Callable[[dict[str, Any]], bool] = lambda _: True) -> Health:
    deadline = time.monotonic() + TIMEOUT
    while True:
        live = _live(cluster, ref)
        found = health(ref, live)
        if found.status == state and also(live):
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"{ref} not {state} in {TIMEOUT:.0f}s: {found}; status {live.get('status')}")
        time.sleep(0.5)


def _pod_template(app: str, image: str, restart: str = "Always") -> dict[str, Any]:
    return {"metadata": {"labels": {"app": app}},
            "spec": {"restartPolicy": restart, "containers": [{"name": "app", "image": image}]}}


def _deployment(name: str, image: str, **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": name}},
                     "template": _pod_template(name, image), **spec}}


def _image(what: str) -> str:
    return f"example.test/{what}-{uuid.uuid4().hex[:8]}:1"


def test_deployment_rollout_completes_healthy(workload_cluster: WorkloadCluster) -> None:
    ns = _namespace(workload_cluster)
    ref = _create(workload_cluster, _deployment("web", _image("web")), ns)
    _wait_for(workload_cluster, ref, HEALTHY)

    _patch(workload_cluster, ref, {"spec": {"template": {"spec": {"containers": [
        {"name": "app", "image": _image("web-v2")}]}}}})

    done = _wait_for(workload_cluster, ref, HEALTHY)
    live = _live(workload_cluster, ref)
    assert live["status"]["observedGeneration"] == live["metadata"]["generation"] == 2
    assert live["status"]["updatedReplicas"] == 2
    assert done.message == "2/2 available"


def test_deployment_whose_new_pods_never_become_ready_is_degraded(workload_cluster: WorkloadCluster) -> None:
    ns = _namespace(workload_cluster)
    ref = _create(workload_cluster, _deployment("api", _image("api"), progressDeadlineSeconds=10), ns)
    _wait_for(workload_cluster, ref, HEALTHY)
    broken = _image("api-broken")
    workload_cluster.fail_pods(broken)

    _patch(workload_cluster, ref, {"spec": {"template": {"spec": {"containers": [{"name": "app", "image": broken}]}}}})

    degraded = _wait_for(workload_cluster, ref, DEGRADED)
    progressing = next(c for c in _live(workload_cluster, ref)["status"]["conditions"] if c["type"] == "Progressing")
    assert progressing["reason"] == "ProgressDeadlineExceeded"
    assert "progress" in degraded.message


def test_unready_pods_keep_a_new_deployment_from_healthy(workload_cluster: WorkloadCluster) -> None:
    ns = _namespace(workload_cluster)
    slow = _image("slow")
    workload_cluster.keep_pods_unready(slow)

    ref = _create(workload_cluster, _deployment("slow", slow, progressDeadlineSeconds=10), ns)

    _wait_for(workload_cluster, ref, DEGRADED)
    assert _live(workload_cluster, ref)["status"].get("availableReplicas", 0) == 0


def test_statefulset_rollout(workload_cluster: WorkloadCluster) -> None:
    ns = _namespace(workload_cluster)
    ref = _create(workload_cluster, {
        "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"},
        "spec": {"replicas": 2, "serviceName": "db", "selector": {"matchLabels": {"app": "db"}},
                 "template": _pod_template("db", _image("db"))}}, ns)
    _wait_for(workload_cluster, ref, HEALTHY)

    _patch(workload_cluster, ref, {"spec": {"template": {"spec": {"containers": [
        {"name": "app", "image": _image("db-v2")}]}}}})

    _wait_for(workload_cluster, ref, HEALTHY)
    status = _live(workload_cluster, ref)["status"]
    assert status["currentRevision"] == status["updateRevision"]
    assert status["updatedReplicas"] == 2


def test_daemonset_rollout_covers_every_fake_node(workload_cluster: WorkloadCluster) -> None:
    ns = _namespace(workload_cluster)
    ref = _create(workload_cluster, {
        "apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent"},
        "spec": {"selector": {"matchLabels": {"app": "agent"}}, "template": _pod_template("agent", _image("agent"))}},
        ns)
    _wait_for(workload_cluster, ref, HEALTHY)

    _patch(workload_cluster, ref, {"spec": {"template": {"spec": {"containers": [
        {"name": "app", "image": _image("agent-v2")}]}}}})

    done = _wait_for(workload_cluster, ref, HEALTHY,
                     also=lambda live: live["status"].get("observedGeneration") == 2)
    assert done.message == "2/2 available"


def _job(name: str, image: str) -> dict[str, Any]:
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
            "spec": {"backoffLimit": 1, "template": _pod_template(name, image, restart="Never")}}


def test_job_success_is_healthy(workload_cluster: WorkloadCluster) -> None:
    ns = _namespace(workload_cluster)

    ref = _create(workload_cluster, _job("migrate", _image("migrate")), ns)

    assert _wait_for(workload_cluster, ref, HEALTHY).message == "complete"


def test_job_past_its_backoff_limit_is_degraded(workload_cluster: WorkloadCluster) -> None:
    ns = _namespace(workload_cluster)
    broken = _image("migrate-broken")
    workload_cluster.fail_pods(broken)

    ref = _create(workload_cluster, _job("migrate", broken), ns)

    _wait_for(workload_cluster, ref, DEGRADED)
    live = _live(workload_cluster, ref)
    assert live["status"].get("failed", 0) >= 1
    assert {c["reason"] for c in live["status"]["conditions"]} & {"BackoffLimitExceeded"}


def test_generic_available_condition_on_an_apiservice(workload_cluster: WorkloadCluster) -> None:
    group = f"h{uuid.uuid4().hex[:8]}.handoff.test"
    missing = _create(workload_cluster, {
        "apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService", "metadata": {"name": f"v1.{group}"},
        "spec": {"group": group, "version": "v1", "groupPriorityMinimum": 100, "versionPriority": 100,
                 "insecureSkipTLSVerify": True, "service": {"name": "absent", "namespace": "default"}}})

    _wait_for(workload_cluster, missing, DEGRADED)
    builtin = ObjectRef("apiregistration.k8s.io/v1", "APIService", "v1.apps")
    assert _wait_for(workload_cluster, builtin, HEALTHY).status == HEALTHY


def test_generic_ready_condition_on_kwok_run_pods(workload_cluster: WorkloadCluster) -> None:
    ns = _namespace(workload_cluster)
    broken = _image("pod-broken")
    workload_cluster.fail_pods(broken)

    fine = _create(workload_cluster, {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "fine"},
                                      "spec": _pod_template("fine", _image("pod"))["spec"]}, ns)
    crashing = _create(workload_cluster, {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "crashing"},
                                          "spec": _pod_template("crashing", broken)["spec"]}, ns)

    _wait_for(workload_cluster, fine, HEALTHY)
    _wait_for(workload_cluster, crashing, DEGRADED)


def test_partitioned_statefulset_rollout_is_healthy_once_the_canary_is_updated(
        workload_cluster: WorkloadCluster) -> None:
    ns = _namespace(workload_cluster)
    ref = _create(workload_cluster, {
        "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "cache"},
        "spec": {"replicas": 2, "serviceName": "cache", "selector": {"matchLabels": {"app": "cache"}},
                 "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 1}},
                 "template": _pod_template("cache", _image("cache"))}}, ns)
    _wait_for(workload_cluster, ref, HEALTHY)

    _patch(workload_cluster, ref, {"spec": {"template": {"spec": {"containers": [
        {"name": "app", "image": _image("cache-v2")}]}}}})

    _wait_for(workload_cluster, ref, HEALTHY, also=lambda live: live["status"].get("updatedReplicas") == 1)
    status = _live(workload_cluster, ref)["status"]
    assert status["currentRevision"] != status["updateRevision"]  # the partition keeps pod 0 on the old one
