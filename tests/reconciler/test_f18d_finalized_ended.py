"""f18d: a Source whose finalizer finished here (its objects pruned, the finalizer removed) is ended: the
watch's events of it still queued (a MODIFIED carrying the deletionTimestamp and the finalizer) do not run
its finalizer again once a successor of the same name is served, whose objects carry the same owner
label. Real kube-apiserver + etcd and git server."""

from __future__ import annotations

import pytest

from handoff.reconciler.config import Settings
from handoff.reconciler.loop import Reconciler
from handoff.reconciler.objects import OWNER_LABEL
from handoff.reconciler.sourcecrd import API_VERSION, KIND, PRUNE_FINALIZER
from handoff.reconciler.sourceobjects import SourceObjects

from .cluster import Cluster
from .test_source_crd_live import cluster, get_source, source_object  # noqa: F401 - fixture

pytestmark = [pytest.mark.tools, pytest.mark.slow]


def test_a_finalized_sources_late_event_does_not_prune_its_successor(cluster: Cluster) -> None:  # noqa: F811
    c = cluster
    rec = Reconciler(Settings(sources=(), namespace=c.control_ns, leader_election=False), c.client, c.workdir)
    objects = SourceObjects(rec, namespace=c.target_ns, allow_private_hosts=True)
    c.client.create(source_object(c))  # prune: true
    objects.sources_watch.relist()
    rec.drain()
    assert [r.ok for r in rec.run_once()] == [True]
    objects.sources_watch.relist()
    rec.drain()
    c.client.delete(API_VERSION, KIND, "web", c.target_ns)
    deleting = get_source(c) or {}
    assert PRUNE_FINALIZER in deleting["metadata"]["finalizers"] and deleting["metadata"]["deletionTimestamp"]
    objects.changed(deleting)  # the finalizer prunes and lets the object go
    rec.drain()
    assert get_source(c) is None and c.get("v1", "ConfigMap", "one") is None
    objects.changed(c.client.create(source_object(c)))  # the successor, served
    rec.drain()
    assert [r.ok for r in rec.run_once()] == [True]
    assert OWNER_LABEL in (((c.get("v1", "ConfigMap", "one") or {}).get("metadata") or {}).get("labels") or {})
    objects.changed(deleting)  # the old object's MODIFIED, still queued, then its DELETED
    objects.deleted(deleting)
    rec.drain()
    assert c.get("v1", "ConfigMap", "one") is not None, "the successor's object must not be pruned"
    assert objects.objects[f"{c.target_ns}/web"].uid != deleting["metadata"]["uid"]
