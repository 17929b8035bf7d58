"""atk18c: the late-delivery race atk18b 7 fixed for an older *generation* of the same uid, for an older
*uid*. A Source is deleted and re-created under its name (new uid, generation 1) while its Secret rotates:
``secret_changed`` GETs the new object and serves it; the Sources watch then delivers the old object's
queued MODIFIED and DELETED events. ``_changed`` reads any uid differing from the served one as "the
served object was deleted and re-created" and ends the *new* Source (``_gone``: orphaned, inventory and
status dropped, no longer served), then serves the dead object's spec; its DELETED event ends that too. The
live Source is left unserved and its objects released, until something else touches it. Real
kube-apiserver + etcd and git server."""

from __future__ import annotations

import pytest

from handoff.reconciler.config import Settings
from handoff.reconciler.loop import Reconciler
from handoff.reconciler.objects import OWNER_LABEL
from handoff.reconciler.sourceobjects import SourceObjects

from .cluster import Cluster
from .test_source_crd_live import cluster, get_source, source_object  # noqa: F401 - fixture

pytestmark = [pytest.mark.tools, pytest.mark.slow]


def test_a_dead_uids_late_events_do_not_end_its_live_successor(cluster: Cluster) -> None:  # noqa: F811
    c = cluster
    rec = Reconciler(Settings(sources=(), namespace=c.control_ns, leader_election=False), c.client, c.workdir)
    objects = SourceObjects(rec, namespace=c.target_ns, allow_private_hosts=True)
    c.client.create(source_object(c, prune=False))
    objects.sources_watch.relist()
    rec.drain()
    assert [r.ok for r in rec.run_once()] == [True]
    old = get_source(c) or {}  # uid A: its status MODIFIED event is still queued in the watch
    c.client.delete("handoff.dev/v1", "Source", "web", c.target_ns)
    c.client.create(source_object(c, prune=False))  # uid B, generation 1
    objects.secret_changed({"metadata": {"namespace": c.target_ns, "name": "git"}})  # GETs uid B
    rec.drain()
    assert [r.ok for r in rec.run_once()] == [True]
    new_uid = (get_source(c) or {})["metadata"]["uid"]
    assert new_uid != old["metadata"]["uid"]
    objects.changed(old)  # the watch's late events for uid A, in order
    objects.deleted(old)
    rec.drain()
    served = [s.name for s in rec.sources()]
    assert f"{c.target_ns}/web" in served, f"the live Source (uid B) is no longer served: {served}"
    assert objects.objects[f"{c.target_ns}/web"].uid == new_uid
    owner = ((c.get("v1", "ConfigMap", "one") or {}).get("metadata") or {}).get("labels") or {}
    assert OWNER_LABEL in owner, f"uid B's ConfigMap was released by uid A's end: {owner}"


def test_a_dead_uids_late_deletion_does_not_release_its_successors_objects(cluster: Cluster) -> None:  # noqa: F811
    """Only the DELETED event late: ``deleted`` sees the served uid differs and keeps serving uid B, but
    then orphans the dead object's spec under the same NAMESPACE/NAME, which is uid B's inventory: B's
    objects lose their owner label and B's inventory and status ConfigMaps are deleted while B is served."""
    c = cluster
    rec = Reconciler(Settings(sources=(), namespace=c.control_ns, leader_election=False), c.client, c.workdir)
    objects = SourceObjects(rec, namespace=c.target_ns, allow_private_hosts=True)
    c.client.create(source_object(c, prune=False))
    objects.sources_watch.relist()
    rec.drain()
    assert [r.ok for r in rec.run_once()] == [True]
    old = get_source(c) or {}
    c.client.delete("handoff.dev/v1", "Source", "web", c.target_ns)
    c.client.create(source_object(c, prune=False))
    objects.secret_changed({"metadata": {"namespace": c.target_ns, "name": "git"}})  # serves uid B
    rec.drain()
    assert [r.ok for r in rec.run_once()] == [True]
    objects.deleted(old)  # the watch's late DELETED for uid A
    rec.drain()
    owner = ((c.get("v1", "ConfigMap", "one") or {}).get("metadata") or {}).get("labels") or {}
    assert OWNER_LABEL in owner, f"uid B's ConfigMap was released by uid A's late deletion: {owner}"
