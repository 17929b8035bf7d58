"""f19d: a Job that sets ttlSecondsAfterFinished may go missing at the revision that created it (the TTL
controller deletes it once finished): not drift, and finished for health, as Flux's health checks read a
missing TTL Job. A Job without a TTL is still re-created, and a new revision applies the TTL Job again.
On the real workload cluster (kube-controller-manager's job and TTL-after-finished controllers + KWOK)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from handoff.reconciler.health import HEALTHY
from handoff.reconciler.loop import Reconciler
from handoff.reconciler.report_status import deploy_state
from tests.harness.cluster import WorkloadCluster
from tests.reconciler.cluster import Cluster, new_cluster

pytestmark = [pytest.mark.tools, pytest.mark.slow]

JOB = """apiVersion: batch/v1
kind: Job
metadata: {{name: {name}}}
spec:
  {ttl}
  template:
    spec:
      restartPolicy: Never
      containers: [{{name: app, image: "example.test/{name}:{tag}"}}]
"""


def _job(name: str, ttl: int | None, tag: str = "1") -> str:
    return JOB.format(name=name, tag=tag, ttl=f"ttlSecondsAfterFinished: {ttl}" if ttl is not None else "")


def _until(what: str, check: Any) -> None:
    for _ in range(240):
        if check():
            return
        time.sleep(0.5)
    raise AssertionError(f"never {what}")


def _complete(c: Cluster, name: str) -> bool:
    job = c.get("batch/v1", "Job", name) or {}
    return any(x.get("type") == "Complete" and x.get("status") == "True"
               for x in (job.get("status") or {}).get("conditions") or [])


def test_a_job_its_ttl_removed_is_finished_so_the_commit_reads_healthy(
        workload_cluster: WorkloadCluster, git_server: Any, tmp_path: Path) -> None:
    """Without this the Job-only app's commit would stay `applying` (no object left to read health from),
    and `handoff wait` could only time out."""
    c = new_cluster(workload_cluster, git_server, tmp_path, {"app/job.yaml": _job("migrate", 0)})
    rec = Reconciler(c.settings(renderer="plain", env="dev"), c.client, c.workdir)
    source = rec.settings.sources[0]
    assert rec.reconcile(source).ok
    _until("removed by its TTL", lambda: c.get("batch/v1", "Job", "migrate") is None)
    again = rec.reconcile(source)
    assert again.ok and not again.drift, again.message
    assert dict(again.health) == {HEALTHY: 1}
    said = deploy_state(again)
    assert said is not None and said[1] == "healthy", said


def test_a_job_without_a_ttl_is_still_re_created_and_a_ttl_job_runs_again_at_the_next_revision(
        workload_cluster: WorkloadCluster, git_server: Any, tmp_path: Path) -> None:
    c = new_cluster(workload_cluster, git_server, tmp_path, {"app/migrate.yaml": _job("migrate", 3600),
                                                             "app/seed.yaml": _job("seed", None)})
    rec = Reconciler(c.settings(renderer="plain"), c.client, c.workdir)
    source = rec.settings.sources[0]
    assert rec.reconcile(source).ok
    _until("complete", lambda: _complete(c, "migrate") and _complete(c, "seed"))
    for name in ("migrate", "seed"):
        assert c.client.delete("batch/v1", "Job", name, c.target_ns)
    _until("deleted", lambda: c.get("batch/v1", "Job", "migrate") is None and c.get("batch/v1", "Job", "seed") is None)

    again = rec.reconcile(source)
    assert again.ok, again.message
    assert [d.ref.name for d in again.drift] == ["seed"]
    assert c.get("batch/v1", "Job", "seed") is not None, "a Job without a TTL that went missing is drift"
    assert c.get("batch/v1", "Job", "migrate") is None

    c.repo.commit({"app/migrate.yaml": _job("migrate", 3600, tag="2")}, "migrate to schema 2")
    bumped = rec.reconcile(source)
    assert bumped.ok, bumped.message
    job = c.get("batch/v1", "Job", "migrate")
    assert job is not None, "the next revision applies the TTL Job again"
    assert job["spec"]["template"]["spec"]["containers"][0]["image"] == "example.test/migrate:2"
