"""atk19b: health() on controller-written status of a suspended Job, on the real workload cluster
(kube-controller-manager + KWOK). Fails today (see /work/scratch/atk19b-report.md)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from handoff.reconciler.health import HEALTHY, PROGRESSING, SUSPENDED, health
from handoff.report.model import ObjectRef
from tests.harness.cluster import WorkloadCluster
from tests.reconciler.test_health_real import _create, _image, _live, _namespace, _pod_template, _wait_for

pytestmark = [pytest.mark.tools, pytest.mark.slow]


def test_a_suspended_job_is_suspended_not_running_forever(workload_cluster: WorkloadCluster) -> None:
    """A Job declared `suspend: true` (or suspended by Kueue) runs no pod until someone resumes it; the
    job controller says so with condition Suspended=True. health() calls it Progressing "running", so
    the commit status stays `applying` and `handoff wait` can only end in 124, as a paused Deployment did
    before f19b made it Suspended."""
    ns = _namespace(workload_cluster)
    job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "held"},
           "spec": {"suspend": True, "template": _pod_template("held", _image("held"), restart="Never")}}
    ref = _create(workload_cluster, job, ns)
    # f19d: the wait was for PROGRESSING (what health said before the fix) plus the condition; once the
    # fix holds, a Job with Suspended=True never reads PROGRESSING, so it waits for SUSPENDED with it
    _wait_for(workload_cluster, ref, SUSPENDED, also=lambda live: any(
        c.get("type") == "Suspended" and c.get("status") == "True"
        for c in (live.get("status") or {}).get("conditions") or []))
    found = health(ref, _live(workload_cluster, ref))
    assert found.status == SUSPENDED, f"a suspended Job reads {found}"


def test_a_pod_that_is_not_ready_yet_is_progressing_not_degraded(workload_cluster: WorkloadCluster) -> None:
    """A generic Ready=False condition is Degraded at once (health.py, the Ready/Available loop), whatever
    its reason: a Pod still starting (ContainersNotReady; the same holds for a Flux HelmRelease or a
    cert-manager Certificate right after apply, Ready=False reason Progressing/Issuing) makes the commit
    `degraded`, `handoff wait` stops at that first non-applying state with exit 1 and the promote gate
    refuses, although the object becomes Ready by itself a moment later. kstatus and Argo CD call a
    running-but-unready Pod in progress."""
    ns = _namespace(workload_cluster)
    starting = _image("starting")
    workload_cluster.keep_pods_unready(starting)
    ref = _create(workload_cluster, {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "starting"},
                                     "spec": _pod_template("starting", starting)["spec"]}, ns)
    live = _running(workload_cluster, ref)
    found = health(ref, live)
    assert found.status == PROGRESSING, f"a running Pod whose containers are not ready yet reads {found}"


def _running(cluster: WorkloadCluster, ref: ObjectRef) -> dict[str, Any]:
    for _ in range(240):
        live = _live(cluster, ref)
        if (live.get("status") or {}).get("phase") == "Running":
            return live
        time.sleep(0.5)
    raise AssertionError(f"{ref} never Running: {live.get('status')}")


def test_a_partition_above_the_replica_count_is_named_as_declared(workload_cluster: WorkloadCluster) -> None:
    """partition 5 on 2 replicas (a canary held back entirely): health says `2 updated above partition 2`,
    naming a partition nobody declared (it prints want - want_updated, clipped at 0) and calling pods
    below the partition "above" it. The state (Healthy) is right; the description on the commit is not."""
    ns = _namespace(workload_cluster)
    ref = _create(workload_cluster, {
        "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "held-canary"},
        "spec": {"replicas": 2, "serviceName": "held-canary", "selector": {"matchLabels": {"app": "held-canary"}},
                 "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 5}},
                 "template": _pod_template("held-canary", _image("held-canary"))}}, ns)
    found = _wait_for(workload_cluster, ref, HEALTHY)
    assert "partition 2" not in found.message and "partition 5" in found.message, found.message
