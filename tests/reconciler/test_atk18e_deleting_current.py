"""atk18e: the GET that tells a re-creation from a late event (``SourceObjects._current``) is read for its
uid only. Source uid A is served; it is deleted and the name created again (uid B) and deleted at once,
held by another controller's finalizer, all before the watch delivers anything. B's queued ADDED event
(no deletionTimestamp) then arrives: the GET confirms uid B, so the event's version is served, although
the GET says B is being deleted: a pass applies a deleting Source's objects, and the ``handoff.dev/prune``
finalizer cannot be added to it any more (the API server refuses new finalizers on a deleting object), so
its prune: true is never honoured. Real kube-apiserver + etcd and git server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from handoff.reconciler.config import Settings
from handoff.reconciler.loop import Reconciler
from handoff.reconciler.sourcecrd import API_VERSION, KIND
from handoff.reconciler.sourceobjects import SourceObjects
from handoff.report.model import ObjectRef

from .cluster import Cluster
from .test_source_crd_live import cluster, get_source, source_object  # noqa: F401 - fixture

pytestmark = [pytest.mark.tools, pytest.mark.slow]
_HOLD = "example.com/hold"


@pytest.fixture
def held(cluster: Cluster) -> Iterator[Cluster]:  # noqa: F811
    yield cluster
    if get_source(cluster) is not None:  # let the namespace go: take the other controller's finalizer off
        cluster.client.patch(ObjectRef(API_VERSION, KIND, "web", cluster.target_ns),
                             {"metadata": {"finalizers": None}}, content_type="application/merge-patch+json")


def test_a_late_event_of_an_object_the_get_shows_deleting_is_not_served(held: Cluster) -> None:
    c = held
    rec = Reconciler(Settings(sources=(), namespace=c.control_ns, leader_election=False), c.client, c.workdir)
    objects = SourceObjects(rec, namespace=c.target_ns, allow_private_hosts=True)
    c.client.create(source_object(c, prune=False))  # uid A, served
    objects.sources_watch.relist()
    rec.drain()
    assert [r.ok for r in rec.run_once()] == [True]
    c.client.delete(API_VERSION, KIND, "web", c.target_ns)
    created = source_object(c, path="other")  # uid B: prune (the default), never seen by this process
    created["metadata"]["finalizers"] = [_HOLD]
    c.client.create(created)
    late = get_source(c) or {}
    c.client.delete(API_VERSION, KIND, "web", c.target_ns)
    deleting = get_source(c) or {}
    assert deleting["metadata"].get("deletionTimestamp") and deleting["metadata"]["uid"] == late["metadata"]["uid"]
    objects.changed(late)  # the watch's queued ADDED of uid B, delivered after the deletion
    rec.drain()
    served = {s.name: s.path for s in rec.sources()}
    assert f"{c.target_ns}/web" not in served, \
        ("a Source the GET shows being deleted (deletionTimestamp set) must not be served from its late "
         f"ADDED event: served {served}")
