"""One reconciler pass against the workload cluster: what it applied rolls out for real, and a revision whose
image fails leaves the Deployment degraded while the reconciler still reports the revision applied."""

import time
from pathlib import Path
from typing import Any

import pytest

from handoff.reconciler.health import DEGRADED, HEALTHY, health
from handoff.reconciler.status import SUCCEEDED
from handoff.report.model import ObjectRef
from tests.harness.cluster import WorkloadCluster

from .cluster import kustomize_app, new_cluster

pytestmark = [pytest.mark.tools, pytest.mark.slow]

TIMEOUT = 300.0


def _wait_health(cluster: Any, ref: ObjectRef, state: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while True:
        live = cluster.get(ref.api_version, ref.kind, ref.name) or {}
        found = health(ref, live)
        if found.status == state:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{ref} not {state} in {TIMEOUT:.0f}s: {found}; status {live.get('status')}")
        time.sleep(0.5)


def test_applied_revision_rolls_out_and_a_failing_image_degrades_it(
        workload_cluster: WorkloadCluster, git_server: Any, tmp_path: Path) -> None:
    cluster = new_cluster(workload_cluster, git_server, tmp_path, kustomize_app("example.test/e2e-web:1"))
    reconciler = cluster.reconciler()
    web = ObjectRef("apps/v1", "Deployment", "web", cluster.target_ns)

    first = reconciler.reconcile(cluster.source())

    assert first.result == SUCCEEDED, first.message
    _wait_health(cluster, web, HEALTHY)

    broken = "example.test/e2e-web-broken:2"
    workload_cluster.fail_pods(broken)
    files = kustomize_app(broken)
    files["app/deployment.yaml"] = files["app/deployment.yaml"].replace(
        "spec:\n  selector:", "spec:\n  progressDeadlineSeconds: 10\n  selector:", 1)
    cluster.repo.commit(dict(files), "web: broken image")

    second = reconciler.reconcile(cluster.source())

    assert second.result == SUCCEEDED, second.message
    assert second.applied_revision != first.applied_revision
    _wait_health(cluster, web, DEGRADED)
