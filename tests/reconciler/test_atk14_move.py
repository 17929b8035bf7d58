"""atk14: moving an object between two sources in one commit (one repo, two paths, one reconciler). The
object is declared by the repo before and after the commit: it must survive with its uid whichever source
the reconciler happens to run first (real kube-apiserver + etcd and git server)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from handoff.reconciler.config import PruneSettings, Settings
from handoff.reconciler.loop import Reconciler

from .cluster import new_cluster

pytestmark = [pytest.mark.tools, pytest.mark.slow]

KEEP = "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: keep-{p}}}\ndata: {{a: b}}\n"
SECRET = "apiVersion: v1\nkind: Secret\nmetadata: {name: db-credentials}\nstringData: {password: s3cr3t}\n"


def test_an_object_moved_from_one_source_to_another_keeps_its_uid(apiserver: Any, git_server: Any,
                                                                  tmp_path: Path) -> None:
    c = new_cluster(apiserver, git_server, tmp_path, {
        "a/keep.yaml": KEEP.format(p="a"), "a/secret.yaml": SECRET, "b/keep.yaml": KEEP.format(p="b")})
    a = c.source(name="team-a", path="a", renderer="plain")
    b = c.source(name="team-b", path="b", renderer="plain")
    rec = Reconciler(Settings(sources=(a, b), namespace=c.control_ns, prune=PruneSettings(),
                              leader_election=False), c.client, c.workdir)
    assert rec.reconcile(a).ok and rec.reconcile(b).ok
    uid = c.get("v1", "Secret", "db-credentials")["metadata"]["uid"]  # type: ignore[index]
    c.repo.commit({"a/secret.yaml": None, "b/secret.yaml": SECRET}, "move the Secret to team-b")
    first = rec.reconcile(a)  # the source that dropped it runs first
    second = rec.reconcile(b)
    assert first.ok and second.ok, (first.message, second.message)
    live = c.get("v1", "Secret", "db-credentials")
    assert live is not None
    assert live["metadata"]["uid"] == uid, \
        f"the Secret was deleted and re-created ({first.message}; pruned {first.pruned})"
