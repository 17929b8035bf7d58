"""atk19b: health() on controller-written status of a suspended Job, on the real workload cluster
(kube-controller-manager + KWOK). Fails today (see /work/scratch/atk19b-report.md)."""

from __future__ import annotations

import pytest

from handoff.reconciler.health import PROGRESSING, SUSPENDED, health
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
    _wait_for(workload_cluster, ref, PROGRESSING, also=lambda live: any(
        c.get("type") == "Suspended" and c.get("status") == "True"
        for c in (live.get("status") or {}).get("conditions") or []))
    found = health(ref, _live(workload_cluster, ref))
    assert found.status == SUSPENDED, f"a suspended Job reads {found}"
