"""Prune is never blind: while another source of this reconciler is not known now (its fetch or render
fails, it has never rendered), what it could have taken over is kept and stays in the inventory, named in
status; its last known claims (inventory, last successful render) are kept as moved (units, then a real
kube-apiserver + etcd and git server)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from handoff.reconciler.config import PruneSettings, Settings
from handoff.reconciler.inventory import read
from handoff.reconciler.loop import Reconciler
from handoff.reconciler.objects import key_of
from handoff.reconciler.prune import UnknownSource, plan
from handoff.report.model import ObjectRef

from .cluster import new_cluster

KEEP = "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: keep-{p}}}\ndata: {{a: b}}\n"
GONE = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: gone}\ndata: {a: b}\n"


def cm(name: str, namespace: str = "apps") -> ObjectRef:
    return ObjectRef("v1", "ConfigMap", name, namespace)


def test_what_an_unknown_source_could_hold_is_deferred_not_deleted() -> None:
    other = UnknownSource("team-b", "its revision abc does not render", lambda r: r.namespace == "apps")
    result = plan([cm("a"), cm("b"), cm("c", "elsewhere")], [cm("a")], PruneSettings(), unknown=[other])
    assert result.delete == (cm("c", "elsewhere"),)  # outside team-b's grant: it cannot have moved there
    assert result.deferred == (cm("b"),)
    assert result.kept == ((cm("b"), "prune deferred: source team-b is not known now (its revision abc does "
                                     "not render) and may have taken it over"),)


def test_a_claimed_object_is_moved_before_any_deferral() -> None:
    other = UnknownSource("team-b", "it cannot be fetched", lambda r: True)
    result = plan([cm("a"), cm("b")], [cm("a")], PruneSettings(), claimed={key_of(cm("b")): "team-b"},
                  unknown=[other])
    assert result.deferred == () and result.delete == ()
    assert result.kept == ((cm("b"), "desired by source team-b: moved, not pruned"),)


@pytest.mark.tools
@pytest.mark.slow
def test_a_prune_deferred_by_an_unknown_source_is_kept_listed_and_done_once_it_is_known(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    """team-b's path does not exist yet (it never rendered, no inventory): team-a's removal of ``gone`` is
    deferred and ``gone`` stays in team-a's inventory; once team-b renders, team-a's next revision prunes
    it."""
    c = new_cluster(apiserver, git_server, tmp_path, {"a/keep.yaml": KEEP.format(p="a"), "a/gone.yaml": GONE})
    a = c.source(name="team-a", path="a", renderer="plain")
    b = c.source(name="team-b", path="b", renderer="plain")
    rec = Reconciler(Settings(sources=(a, b), namespace=c.control_ns, prune=PruneSettings(),
                              leader_election=False), c.client, c.workdir)
    assert rec.reconcile(a).ok
    c.repo.commit({"a/gone.yaml": None}, "remove gone")
    first = rec.reconcile(a)
    assert first.ok and first.pruned == (), first.message
    assert "prune of 1 object(s) deferred" in first.message
    assert [why for ref, why in first.prune_kept if ref.name == "gone"] == [
        "prune deferred: source team-b is not known now (its revision "
        f"{first.attempted_revision[:12]} does not render or is refused) and may have taken it over"]
    assert c.get("v1", "ConfigMap", "gone") is not None
    listed = read(c.client, c.control_ns, "team-a")
    assert listed is not None and "gone" in {r.name for r in listed.objects}
    c.repo.commit({"b/keep.yaml": KEEP.format(p="b"), "a/more.yaml": KEEP.format(p="more")}, "team-b arrives")
    second = rec.reconcile(a)
    assert second.ok and [r.name for r in second.pruned] == ["gone"], second.message
    assert c.get("v1", "ConfigMap", "gone") is None
