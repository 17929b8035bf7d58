"""The workload cluster runs workloads: a Deployment becomes Available, a Job completes, a Namespace is finalised,
and an image marked as failing keeps its pods unready."""

import time
from collections.abc import Callable
from typing import Any

import kubernetes
import pytest

from tests.harness.cluster import WorkloadCluster

pytestmark = [pytest.mark.tools, pytest.mark.slow]

TIMEOUT = 240.0  # generous: the machine may be loaded; nothing here asserts how long it took


def _eventually(read: Callable[[], Any], done: Callable[[Any], bool], what: str) -> Any:
    deadline = time.monotonic() + TIMEOUT
    while True:
        value = read()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached in {TIMEOUT:.0f}s; last seen: {value}")
        time.sleep(0.5)


def _condition(obj: Any, kind: str) -> str | None:
    return next((c.status for c in (obj.status.conditions or []) if c.type == kind), None)


def _namespace(cluster: WorkloadCluster, name: str) -> str:
    kubernetes.client.CoreV1Api(cluster.client).create_namespace({"metadata": {"name": name}})
    return name


def _deployment(name: str, image: str) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": {"app": name}},
                              "spec": {"containers": [{"name": "app", "image": image}]}}},
    }


def test_deployment_becomes_available(workload_cluster: WorkloadCluster) -> None:
    ns = _namespace(workload_cluster, "smoke-deploy")
    apps = kubernetes.client.AppsV1Api(workload_cluster.client)
    apps.create_namespaced_deployment(ns, _deployment("web", "example.test/smoke-web:1"))

    deployment = _eventually(lambda: apps.read_namespaced_deployment("web", ns),
                             lambda d: (d.status.available_replicas or 0) == 2, "2 available replicas")

    assert _condition(deployment, "Available") == "True"
    pods = kubernetes.client.CoreV1Api(workload_cluster.client).list_namespaced_pod(ns).items
    assert {p.spec.node_name for p in pods} <= {"kwok-node-0", "kwok-node-1"}
    assert all(p.status.phase == "Running" for p in pods)


def test_job_completes(workload_cluster: WorkloadCluster) -> None:
    ns = _namespace(workload_cluster, "smoke-job")
    batch = kubernetes.client.BatchV1Api(workload_cluster.client)
    batch.create_namespaced_job(ns, {
        "apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "migrate"},
        "spec": {"template": {"spec": {"restartPolicy": "Never",
                                       "containers": [{"name": "migrate", "image": "example.test/smoke-job:1"}]}}},
    })

    job = _eventually(lambda: batch.read_namespaced_job("migrate", ns),
                      lambda j: _condition(j, "Complete") == "True", "Job Complete")

    assert job.status.succeeded == 1


def test_failing_image_keeps_pods_unready(workload_cluster: WorkloadCluster) -> None:
    ns = _namespace(workload_cluster, "smoke-fail")
    workload_cluster.fail_pods("example.test/smoke-broken:1")
    core = kubernetes.client.CoreV1Api(workload_cluster.client)
    core.create_namespaced_pod(ns, {"metadata": {"name": "broken"},
                                    "spec": {"containers": [{"name": "app", "image": "example.test/smoke-broken:1"}]}})

    pod = _eventually(lambda: core.read_namespaced_pod("broken", ns),
                      lambda p: p.status.phase == "Running", "the pod running")

    assert _condition(pod, "Ready") == "False"
    assert pod.status.container_statuses[0].state.waiting.reason == "CrashLoopBackOff"


def test_namespace_deletion_is_finalised(workload_cluster: WorkloadCluster) -> None:
    core = kubernetes.client.CoreV1Api(workload_cluster.client)
    ns = _namespace(workload_cluster, "smoke-gone")
    core.create_namespaced_config_map(ns, {"metadata": {"name": "data"}})

    core.delete_namespace(ns)

    def gone() -> bool:
        try:
            core.read_namespace(ns)
        except kubernetes.client.ApiException as e:
            return e.status == 404
        return False

    assert _eventually(gone, bool, "the namespace gone")
