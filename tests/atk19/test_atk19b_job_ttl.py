"""atk19b: a Job-only app whose Job cleans itself up (`ttlSecondsAfterFinished`), on the real workload
cluster (kube-controller-manager's TTL-after-finished controller + KWOK) and a real reconcile pass. Fails
today (see /work/scratch/atk19b-report.md)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from handoff.reconciler.config import PruneSettings, Settings
from handoff.reconciler.loop import Reconciler
from tests.harness.cluster import WorkloadCluster
from tests.reconciler.cluster import new_cluster

pytestmark = [pytest.mark.tools, pytest.mark.slow]

JOB = """apiVersion: batch/v1
kind: Job
metadata: {name: migrate}
spec:
  ttlSecondsAfterFinished: 0
  template:
    spec:
      restartPolicy: Never
      containers: [{name: app, image: example.test/migrate:1}]
"""


def test_a_job_removed_by_its_own_ttl_is_not_re_run_as_drift(
        workload_cluster: WorkloadCluster, git_server: Any, tmp_path: Path) -> None:
    """The Job completes and the TTL controller deletes it, as its spec asks. The next pass calls the
    missing Job drift and re-creates it: the migration runs again on every drift check, forever, and the
    commit's health flips between applying (the new Job running) and healthy, reposting on each flip
    (toward GitHub's per-context statuses cap)."""
    c = new_cluster(workload_cluster, git_server, tmp_path, {"app/job.yaml": JOB})
    source = c.source(name="migrate-dev", env="dev", renderer="plain")
    rec = Reconciler(Settings(sources=(source,), namespace=c.control_ns, prune=PruneSettings(),
                              leader_election=False), c.client, c.workdir)
    first = rec.reconcile(source)
    assert first.ok, first.message
    for _ in range(240):
        if c.get("batch/v1", "Job", "migrate") is None:
            break
        time.sleep(0.5)
    assert c.get("batch/v1", "Job", "migrate") is None, "the TTL controller never removed the finished Job"
    again = rec.reconcile(source)
    assert again.ok, again.message
    assert c.get("batch/v1", "Job", "migrate") is None, f"the finished Job was re-created: {again.message}"
