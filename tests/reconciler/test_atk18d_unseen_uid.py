"""atk18d: the ended-uid memory (``SourceObjects.ended``) only knows uids this process served. A Source is
deleted, created again (uid A2) and deleted again, then created a third time (uid B), all before the
Sources watch delivers anything; ``secret_changed`` GETs uid B and serves it. The watch then delivers uid
A2's queued ADDED and DELETED events. A2 was never served, so it is not in ``ended``: ``_changed`` reads
its differing uid as "the served object was re-created" and ends the live uid B (``_gone``), serves A2's
dead spec, and A2's DELETED event then orphans under B's NAMESPACE/NAME. Real kube-apiserver + etcd and
git server."""

from __future__ import annotations

import pytest

from handoff.reconciler.config import Settings
from handoff.reconciler.loop import Reconciler
from handoff.reconciler.objects import OWNER_LABEL
from handoff.reconciler.sourceobjects import SourceObjects

from .cluster import Cluster
from .test_source_crd_live import cluster, get_source, source_object  # noqa: F401 - fixture

pytestmark = [pytest.mark.tools, pytest.mark.slow]


def test_a_never_served_uids_late_events_do_not_end_the_live_source(cluster: Cluster) -> None:  # noqa: F811
    c = cluster
    rec = Reconciler(Settings(sources=(), namespace=c.control_ns, leader_election=False), c.client, c.workdir)
    objects = SourceObjects(rec, namespace=c.target_ns, allow_private_hosts=True)
    c.client.create(source_object(c, prune=False))  # uid A, served
    objects.sources_watch.relist()
    rec.drain()
    assert [r.ok for r in rec.run_once()] == [True]
    c.client.delete("handoff.dev/v1", "Source", "web", c.target_ns)
    c.client.create(source_object(c, prune=False, path="other"))  # uid A2: never seen by this process
    unseen = get_source(c) or {}
    c.client.delete("handoff.dev/v1", "Source", "web", c.target_ns)
    c.client.create(source_object(c, prune=False))  # uid B, the live one
    objects.secret_changed({"metadata": {"namespace": c.target_ns, "name": "git"}})  # GETs and serves uid B
    rec.drain()
    assert [r.ok for r in rec.run_once()] == [True]
    live_uid = (get_source(c) or {})["metadata"]["uid"]
    assert live_uid != unseen["metadata"]["uid"]
    objects.changed(unseen)  # the watch's late ADDED and DELETED of uid A2, in order
    objects.deleted(unseen)
    rec.drain()
    served = {s.name: s.path for s in rec.sources()}
    assert served.get(f"{c.target_ns}/web") == "app", \
        f"the live Source (uid B, path app) must stay served after a dead uid's late events: {served}"
    assert objects.objects[f"{c.target_ns}/web"].uid == live_uid, "the served object must be the live uid B"
    owner = ((c.get("v1", "ConfigMap", "one") or {}).get("metadata") or {}).get("labels") or {}
    assert OWNER_LABEL in owner, f"uid B's ConfigMap must keep its owner label: {owner}"
