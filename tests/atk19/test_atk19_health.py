"""atk19: health() on controller-written status for rollouts the controller never finishes by itself
(``updateStrategy: OnDelete``). The reconciler applied the new template; nothing more will happen until
someone deletes pods, so "rolling out" (commit status ``applying``, ``handoff wait`` → 124) is never true.
health.py's own comment says OnDelete must not hold a rollout, yet ``updated < want`` does."""

from __future__ import annotations

import time
from typing import Any

import pytest

from handoff.reconciler.health import PROGRESSING, health
from tests.harness.cluster import WorkloadCluster
from tests.reconciler.test_health_real import (
    HEALTHY,
    _create,
    _image,
    _live,
    _namespace,
    _patch,
    _pod_template,
    _wait_for,
)

pytestmark = [pytest.mark.tools, pytest.mark.slow]
TIMEOUT = 300.0


def _settled(cluster: WorkloadCluster, ref: Any, done: Any) -> dict[str, Any]:
    """The live object once the controller observed the new generation and reached the state ``done``
    says; OnDelete rollouts stay there (no pod is replaced until deleted)."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        live = _live(cluster, ref)
        status = live.get("status") or {}
        if status.get("observedGeneration") == live["metadata"]["generation"] and done(status):
            return live
        if time.monotonic() > deadline:
            raise AssertionError(f"{ref} did not settle: {status}")
        time.sleep(0.5)


@pytest.mark.parametrize("kind", ["StatefulSet", "DaemonSet"])
def test_an_on_delete_rollout_is_not_progressing_forever(workload_cluster: WorkloadCluster, kind: str) -> None:
    ns = _namespace(workload_cluster)
    spec: dict[str, Any] = {"selector": {"matchLabels": {"app": "od"}}, "updateStrategy": {"type": "OnDelete"},
                            "template": _pod_template("od", _image("od"))}
    if kind == "StatefulSet":
        spec |= {"replicas": 2, "serviceName": "od"}
    ref = _create(workload_cluster, {"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": "od"},
                                     "spec": spec}, ns)
    _wait_for(workload_cluster, ref, HEALTHY)
    _patch(workload_cluster, ref, {"spec": {"template": {"spec": {"containers": [
        {"name": "app", "image": _image("od-v2")}]}}}})
    if kind == "StatefulSet":
        live = _settled(workload_cluster, ref, lambda s: s.get("updateRevision") != s.get("currentRevision"))
    else:
        live = _settled(workload_cluster, ref, lambda s: s.get("numberAvailable") == s.get("desiredNumberScheduled"))
    assert health(ref, live).status != PROGRESSING, f"{kind} OnDelete held as rolling out: {health(ref, live)}"
