"""atk14b: the h14fix "prune keeps objects other sources claim" fails open. What the receiving source
renders now is asked for with errors swallowed (loop.py ``_desired_now``): when that render fails, the
object counts as claimed by nobody and the giving source deletes it, though the repo still declares it
(real kube-apiserver + etcd and git server)."""

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


def test_an_object_moved_to_a_source_whose_render_fails_is_not_deleted(apiserver: Any, git_server: Any,
                                                                      tmp_path: Path) -> None:
    c = new_cluster(apiserver, git_server, tmp_path, {
        "a/keep.yaml": KEEP.format(p="a"), "a/secret.yaml": SECRET, "b/keep.yaml": KEEP.format(p="b")})
    a = c.source(name="team-a", path="a", renderer="plain")
    b = c.source(name="team-b", path="b", renderer="plain")
    rec = Reconciler(Settings(sources=(a, b), namespace=c.control_ns, prune=PruneSettings(),
                              leader_election=False), c.client, c.workdir)
    assert rec.reconcile(a).ok and rec.reconcile(b).ok
    uid = c.get("v1", "Secret", "db-credentials")["metadata"]["uid"]  # type: ignore[index]
    # one commit moves the Secret to team-b, and team-b's path also gets a file that does not parse
    c.repo.commit({"a/secret.yaml": None, "b/secret.yaml": SECRET, "b/broken.yaml": "kind: [unclosed\n"},
                  "move the Secret to team-b (and a typo in team-b)")
    first = rec.reconcile(a)
    second = rec.reconcile(b)
    assert not second.ok, second.message  # team-b's revision is not applied: its render fails
    live = c.get("v1", "Secret", "db-credentials")
    assert live is not None and live["metadata"]["uid"] == uid, \
        f"the Secret the repo still declares (under team-b) was deleted by team-a: {first.message}; " \
        f"pruned {first.pruned}; team-b: {second.message}"
