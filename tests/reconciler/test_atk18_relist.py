"""atk18: what a relist (after a watch's 410 Gone or a broken stream) reports must be acted on as the
watch's own events would be. Real kube-apiserver + etcd and git server, driven step by step: the watch is
not running, so every change below happens "during the gap" and is seen only by the relist."""

from __future__ import annotations

import pytest

from handoff.reconciler.config import Settings
from handoff.reconciler.loop import Reconciler
from handoff.reconciler.objects import OWNER_LABEL
from handoff.reconciler.sourcecrd import API_VERSION, KIND
from handoff.reconciler.sourceobjects import SourceObjects

from .cluster import Cluster
from .test_source_crd_live import cluster, get_source, source_object  # noqa: F401 - fixture

pytestmark = [pytest.mark.tools, pytest.mark.slow]


def _served(c: Cluster) -> tuple[Reconciler, SourceObjects]:
    rec = Reconciler(Settings(sources=(), namespace=c.control_ns, leader_election=False), c.client, c.workdir)
    return rec, SourceObjects(rec, namespace=c.target_ns, allow_private_hosts=True)


def _relist(objects: SourceObjects, rec: Reconciler) -> None:
    objects.sources_watch.relist()
    rec.drain()


def test_a_source_deleted_while_the_watch_was_gone_still_orphans_its_objects(
        cluster: Cluster) -> None:  # noqa: F811
    """A Source with ``prune: false`` (no finalizer holds it) deleted between two lists: the relist
    reports it deleted, and its objects must be orphaned (owner label removed), as the watch's DELETED
    event would have done. Today the relist hands over only the object's name (ListWatch keeps
    identities), ``deleted`` parses that spec-less object, fails on ``spec.url is required`` and leaves
    the objects labelled as owned by a source that no longer exists."""
    c = cluster
    rec, objects = _served(c)
    c.client.create(source_object(c, prune=False))
    _relist(objects, rec)
    assert [r.ok for r in rec.run_once()] == [True]
    live = c.get("v1", "ConfigMap", "one")
    assert live is not None and live["metadata"]["labels"].get(OWNER_LABEL)
    c.client.delete(API_VERSION, KIND, "web", c.target_ns)
    assert get_source(c) is None  # no finalizer: gone at once, while nobody watched
    _relist(objects, rec)
    kept = c.get("v1", "ConfigMap", "one")
    assert kept is not None  # prune: false keeps it
    assert OWNER_LABEL not in (kept["metadata"].get("labels") or {}), \
        "a Source deleted during a watch gap left its objects labelled as its own (never orphaned)"


def test_a_source_recreated_under_the_same_name_while_the_watch_was_gone_is_served_by_its_new_spec(
        cluster: Cluster) -> None:  # noqa: F811
    """Delete ``web`` and create a new ``web`` (another uid, generation 1 again, a different path) between
    two lists: the relist sees the name still there and hands over the new object. It must be served by
    its own spec. Today ``_same_but_status`` compares only generation, the sync-now annotation and the
    finalizers, not the uid, so the new object is taken for "our own status write coming back": its spec
    is never parsed and the old spec (path ``app``) keeps being applied in its name."""
    c = cluster
    rec, objects = _served(c)
    c.client.create(source_object(c, prune=False))
    _relist(objects, rec)
    assert [r.ok for r in rec.run_once()] == [True]
    old_uid = (get_source(c) or {})["metadata"]["uid"]
    c.client.delete(API_VERSION, KIND, "web", c.target_ns)
    c.client.create(source_object(c, prune=False, path="other"))
    new = get_source(c)
    assert new is not None and new["metadata"]["uid"] != old_uid and new["metadata"]["generation"] == 1
    _relist(objects, rec)
    served = objects.objects[f"{c.target_ns}/web"]
    assert served.uid == new["metadata"]["uid"], "the recreated Source is served under the deleted one's uid"
    assert served.source.path == "other", "the recreated Source's spec was never read"
    assert [r.ok for r in rec.run_once()] == [True]
    assert c.get("v1", "ConfigMap", "two") is not None, "the new spec's path was not rendered"
