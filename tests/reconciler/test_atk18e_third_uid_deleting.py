"""atk18e (held): a late event of a never-served uid B while the name is held by a third uid C that is
itself being deleted (another controller's finalizer holds it). The GET returns C: B is remembered
ended, the served uid A ends, and C is handled as itself (deleting: not served). Real kube-apiserver +
etcd and git server."""

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


@pytest.fixture
def held(cluster: Cluster) -> Iterator[Cluster]:  # noqa: F811
    yield cluster
    if get_source(cluster) is not None:
        cluster.client.patch(ObjectRef(API_VERSION, KIND, "web", cluster.target_ns),
                             {"metadata": {"finalizers": None}}, content_type="application/merge-patch+json")


def test_a_late_event_while_a_third_uid_is_being_deleted_serves_nothing(held: Cluster) -> None:
    c = held
    rec = Reconciler(Settings(sources=(), namespace=c.control_ns, leader_election=False), c.client, c.workdir)
    objects = SourceObjects(rec, namespace=c.target_ns, allow_private_hosts=True)
    c.client.create(source_object(c, prune=False))  # uid A, served
    objects.sources_watch.relist()
    rec.drain()
    assert [r.ok for r in rec.run_once()] == [True]
    c.client.delete(API_VERSION, KIND, "web", c.target_ns)
    c.client.create(source_object(c, prune=False, path="other"))  # uid B, never seen
    late = get_source(c) or {}
    c.client.delete(API_VERSION, KIND, "web", c.target_ns)
    third = source_object(c, path="other")
    third["metadata"]["finalizers"] = ["example.com/hold"]
    c.client.create(third)  # uid C
    c.client.delete(API_VERSION, KIND, "web", c.target_ns)  # C is being deleted
    objects.changed(late)
    rec.drain()
    served = {s.name for s in rec.sources()}
    assert f"{c.target_ns}/web" not in served, f"neither B (ended) nor C (deleting) is served: {sorted(served)}"
    assert late["metadata"]["uid"] in objects.ended, "B's uid is remembered ended"
    objects.changed(late)  # B's DELETED-era duplicates change nothing either
    rec.drain()
    assert f"{c.target_ns}/web" not in {s.name for s in rec.sources()}
