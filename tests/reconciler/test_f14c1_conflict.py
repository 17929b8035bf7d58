"""f14c1 (atk14c C13): two sources of one reconciler declaring one object. The second is refused as a
conflict naming the owner, before anything of its revision is written, and the object keeps its owner;
a Source object says so with Ready=False, reason Conflict. Moving an object on purpose (dropped by its
owner) is a take-over, not a conflict, whichever source runs first. Real kube-apiserver + etcd and git
server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from handoff.reconciler.config import PruneSettings, Settings
from handoff.reconciler.loop import Reconciler
from handoff.reconciler.objects import OWNER_LABEL
from handoff.reconciler.sourceobjects import SourceObjects
from handoff.reconciler.status import REFUSED, SUCCEEDED

from .cluster import Cluster, new_cluster
from .test_source_crd_live import cluster, ready, source_object  # noqa: F401 - fixture

pytestmark = [pytest.mark.tools, pytest.mark.slow]

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}}}\ndata: {{by: {by}}}\n"


def _two(apiserver: Any, git_server: Any, tmp_path: Path) -> tuple[Cluster, Reconciler, Any, Any]:
    c = new_cluster(apiserver, git_server, tmp_path, {
        "a/cm.yaml": CM.format(name="shared", by="a"),
        "b/cm.yaml": CM.format(name="shared", by="b"), "b/own.yaml": CM.format(name="only-b", by="b")})
    a = c.source(name="a", path="a", renderer="plain")
    b = c.source(name="b", path="b", renderer="plain")
    rec = Reconciler(Settings(sources=(a, b), namespace=c.control_ns, prune=PruneSettings(),
                              leader_election=False), c.client, c.workdir)
    return c, rec, a, b


def test_the_second_source_is_refused_naming_the_owner_and_writes_nothing(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    c, rec, a, b = _two(apiserver, git_server, tmp_path)
    assert rec.reconcile(a).ok
    before = c.get("v1", "ConfigMap", "shared")
    assert before is not None
    refused = rec.reconcile(b)
    assert refused.result == REFUSED and refused.error_kind == "conflict", refused.message
    assert "owned by source a" in refused.message and "ConfigMap" in refused.message
    after = c.get("v1", "ConfigMap", "shared")
    assert after is not None and after["data"] == {"by": "a"}
    assert after["metadata"]["labels"][OWNER_LABEL] == "a"
    assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
    assert c.get("v1", "ConfigMap", "only-b") is None, "a refused revision wrote another of its objects"
    assert rec.reconcile(a).result == SUCCEEDED  # the owner's drift pass finds nothing to revert


def test_dropping_the_object_from_its_owner_lets_the_other_source_take_it_over(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    c, rec, a, b = _two(apiserver, git_server, tmp_path)
    assert rec.reconcile(a).ok
    uid = c.get("v1", "ConfigMap", "shared")["metadata"]["uid"]  # type: ignore[index]
    assert rec.reconcile(b).result == REFUSED
    c.repo.commit({"a/cm.yaml": CM.format(name="keep-a", by="a")}, "a lets shared go to b")
    taken = rec.reconcile(b)  # before a's own pass: a's remote revision no longer declares it
    assert taken.ok, taken.message
    live = c.get("v1", "ConfigMap", "shared")
    assert live is not None and live["data"] == {"by": "b"} and live["metadata"]["uid"] == uid
    assert live["metadata"]["labels"][OWNER_LABEL] == "b"
    assert rec.reconcile(a).ok and c.get("v1", "ConfigMap", "shared") is not None  # not pruned by a


def test_a_source_object_in_conflict_is_ready_false_reason_conflict(cluster: Cluster) -> None:  # noqa: F811
    c = cluster
    rec = Reconciler(Settings(sources=(), namespace=c.control_ns, leader_election=False), c.client, c.workdir)
    objects = SourceObjects(rec, namespace=c.target_ns, allow_private_hosts=True)  # the git server: loopback
    c.client.create(source_object(c, "web", path="app"))
    objects.sources_watch.relist()
    rec.drain()
    assert [r.ok for r in rec.run_once()] == [True]
    c.client.create(source_object(c, "copy", path="app"))  # declares the same ConfigMap one
    objects.sources_watch.relist()
    rec.drain()
    (copy,) = [s for s in rec.sources() if s.name.endswith("/copy")]
    result = rec.reconcile(copy)
    assert result.result == REFUSED, result.message
    condition = ready(c, "copy")
    assert condition is not None and condition["status"] == "False" and condition["reason"] == "Conflict"
    assert f"owned by source {c.target_ns}/web" in condition["message"]
