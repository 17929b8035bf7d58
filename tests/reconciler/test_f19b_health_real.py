"""health() on controller-written status for rollouts that do not finish by themselves: an ``OnDelete``
StatefulSet or DaemonSet (done once the new generation is observed and every pod is ready; the old pods
wait for someone to delete them) and a paused Deployment (Suspended, until it is resumed)."""

from __future__ import annotations

from typing import Any

import kubernetes
import pytest

from handoff.reconciler.health import HEALTHY, SUSPENDED
from tests.harness.cluster import WorkloadCluster
from tests.reconciler.test_health_real import (
    _create,
    _deployment,
    _image,
    _namespace,
    _patch,
    _pod_template,
    _wait_for,
)

pytestmark = [pytest.mark.tools, pytest.mark.slow]


def _new_image(cluster: WorkloadCluster, ref: Any, what: str) -> None:
    _patch(cluster, ref, {"spec": {"template": {"spec": {"containers": [{"name": "app", "image": _image(what)}]}}}})


def test_an_on_delete_statefulset_says_how_many_pods_wait_for_deletion(workload_cluster: WorkloadCluster) -> None:
    ns = _namespace(workload_cluster)
    ref = _create(workload_cluster, {
        "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "od"},
        "spec": {"replicas": 2, "serviceName": "od", "selector": {"matchLabels": {"app": "od"}},
                 "updateStrategy": {"type": "OnDelete"}, "template": _pod_template("od", _image("od"))}}, ns)
    _wait_for(workload_cluster, ref, HEALTHY)
    _new_image(workload_cluster, ref, "od-v2")
    waiting = _wait_for(workload_cluster, ref, HEALTHY,
                        also=lambda live: live["status"].get("updateRevision") != live["status"].get("currentRevision"))
    assert "2 old pod(s) wait for deletion" in waiting.message

    # someone deletes one pod: the controller re-creates it from the new template, one still waits
    kubernetes.client.CoreV1Api(workload_cluster.client).delete_namespaced_pod("od-0", ns)
    one = _wait_for(workload_cluster, ref, HEALTHY, also=lambda live: live["status"].get("updatedReplicas") == 1)
    assert "1 old pod(s) wait for deletion" in one.message


def test_a_paused_deployment_with_a_new_template_is_suspended_until_resumed(
        workload_cluster: WorkloadCluster) -> None:
    ns = _namespace(workload_cluster)
    ref = _create(workload_cluster, _deployment("paused", _image("paused")), ns)
    _wait_for(workload_cluster, ref, HEALTHY)
    _patch(workload_cluster, ref, {"spec": {"paused": True}})
    # paused with nothing pending is still healthy: every pod runs the declared template
    _wait_for(workload_cluster, ref, HEALTHY, also=lambda live: any(
        c.get("reason") == "DeploymentPaused" for c in live["status"].get("conditions") or []))
    _new_image(workload_cluster, ref, "paused-v2")
    suspended = _wait_for(workload_cluster, ref, SUSPENDED)
    assert suspended.message.startswith("rollout paused: 0/2 updated")

    _patch(workload_cluster, ref, {"spec": {"paused": False}})
    _wait_for(workload_cluster, ref, HEALTHY, also=lambda live: live["status"].get("updatedReplicas") == 2)


def test_an_on_delete_daemonset_says_its_pods_wait_for_deletion(workload_cluster: WorkloadCluster) -> None:
    ns = _namespace(workload_cluster)
    ref = _create(workload_cluster, {
        "apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "odd"},
        "spec": {"selector": {"matchLabels": {"app": "odd"}}, "updateStrategy": {"type": "OnDelete"},
                 "template": _pod_template("odd", _image("odd"))}}, ns)
    _wait_for(workload_cluster, ref, HEALTHY)
    _new_image(workload_cluster, ref, "odd-v2")
    waiting = _wait_for(workload_cluster, ref, HEALTHY, also=lambda live: live["status"].get(
        "observedGeneration") == live["metadata"]["generation"])
    assert "wait for deletion" in waiting.message
