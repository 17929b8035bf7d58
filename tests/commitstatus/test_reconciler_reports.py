"""The reconciler posts its outcome per revision on the config repo's commit, against the harness's real
kube-apiserver and git server: the local forge's notes ref, pushed with the statuses credential."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from handoff.commitstatus import NOTES_REF, LocalStatuses
from handoff.git.command import GitAuth
from handoff.git.notes import GitNotes
from handoff.reconciler.config import StatusSettings
from handoff.reconciler.loop import Reconciler
from tests.harness.tools import require_tool
from tests.reconciler.cluster import Cluster, kustomize_app, new_cluster

pytestmark = [pytest.mark.tools, pytest.mark.slow]


@pytest.fixture
def cluster(apiserver: Any, git_server: Any, tmp_path: Path) -> Cluster:
    require_tool("kustomize")
    return new_cluster(apiserver, git_server, tmp_path, kustomize_app())


def test_applied_and_refused_revisions_are_reported_on_their_commits(cluster: Cluster, git_server: Any,
                                                                      tmp_path: Path) -> None:
    settings = replace(cluster.settings(env="dev"),
                       status=StatusSettings(kind="local", token_file=str(cluster.token_file),
                                             username=cluster.username))
    rec = Reconciler(settings, cluster.client, cluster.workdir)
    source = settings.sources[0]
    first = rec.reconcile(source)
    assert first.ok, first.message
    # this apiserver runs no controllers: the Deployment never rolls out, so the revision is applying
    broken = cluster.repo.commit({"app/kustomization.yaml": "resources: [missing.yaml]\n"}, "break it")
    second = rec.reconcile(source)
    assert not second.ok and second.attempted_revision == broken
    rec.reconcile(source)  # the same failure again: nothing new to post
    reader = LocalStatuses(GitNotes(cluster.url, tmp_path / "reader", NOTES_REF,
                                    auth=GitAuth(cluster.username, cluster.token_file.read_text())))
    assert reader.read(first.applied_revision)["handoff/dev"].state == "applying"
    failed = reader.read(broken)["handoff/dev"]
    assert failed.state == "failed" and "not applied" in failed.description
    assert rec.reporter.posted.labels(source.name, "failed")._value.get() == 1


def test_a_rollout_that_finishes_after_the_apply_turns_the_commit_healthy(cluster: Cluster,
                                                                         tmp_path: Path) -> None:
    settings = replace(cluster.settings(env="dev"),
                       status=StatusSettings(kind="local", token_file=str(cluster.token_file),
                                             username=cluster.username))
    rec = Reconciler(settings, cluster.client, cluster.workdir)
    source = settings.sources[0]
    first = rec.reconcile(source)
    assert first.ok, first.message
    live = cluster.get("apps/v1", "Deployment", "web")
    assert live is not None
    # what the deployment controller writes once the rollout is done (this apiserver runs none)
    path = cluster.client.resource("apps/v1", "Deployment").path(cluster.target_ns, "web") + "/status"
    cluster.client.request("PATCH", path, content_type="application/merge-patch+json", body={"status": {
        "observedGeneration": live["metadata"]["generation"], "replicas": 1, "updatedReplicas": 1,
        "readyReplicas": 1, "availableReplicas": 1}})
    later = rec.reconcile(source)  # the same revision: no apply, but its health is looked at again
    assert later.ok and later.health.get("Healthy", 0) >= 1, later.health
    reader = LocalStatuses(GitNotes(cluster.url, tmp_path / "reader", NOTES_REF,
                                    auth=GitAuth(cluster.username, cluster.token_file.read_text())))
    assert reader.read(first.applied_revision)["handoff/dev"].state == "healthy"
