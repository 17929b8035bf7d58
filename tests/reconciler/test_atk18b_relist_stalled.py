"""atk18b: a relist reports a vanished Source by name only, and ``SourceObjects.deleted`` ends it from what
it last served (``self.objects``). A Source that was served, then Stalled (its Secret deleted: ``_stall``
pops it from ``self.objects``), then deleted while the watch was down, is found by the relist as a name
with no spec and no known object: "its spec was never served" is logged and nothing is orphaned. Its
objects keep the owner label of a Source that no longer exists and its inventory stays, though it was
served and said ``prune: false``. Real kube-apiserver + etcd and git server."""

from __future__ import annotations

import pytest

from handoff.reconciler.config import Settings
from handoff.reconciler.loop import Reconciler
from handoff.reconciler.objects import OWNER_LABEL
from handoff.reconciler.sourceobjects import SourceObjects

from .cluster import Cluster
from .test_source_crd_live import cluster, ready, source_object  # noqa: F401 - fixture

pytestmark = [pytest.mark.tools, pytest.mark.slow]


def test_a_stalled_source_deleted_during_a_watch_gap_still_orphans_its_objects(cluster: Cluster) -> None:  # noqa: F811
    c = cluster
    rec = Reconciler(Settings(sources=(), namespace=c.control_ns, leader_election=False), c.client, c.workdir)
    objects = SourceObjects(rec, namespace=c.target_ns, allow_private_hosts=True)
    c.client.create(source_object(c, prune=False))
    objects.sources_watch.relist()
    rec.drain()
    assert [r.ok for r in rec.run_once()] == [True]
    assert OWNER_LABEL in ((c.get("v1", "ConfigMap", "one") or {})["metadata"].get("labels") or {})
    c.client.delete("v1", "Secret", "git", c.target_ns)
    objects.secret_changed({"metadata": {"namespace": c.target_ns, "name": "git"}})
    rec.drain()
    condition = ready(c)
    assert condition is not None and condition["reason"] == "SecretNotFound", condition
    c.client.delete("handoff.dev/v1", "Source", "web", c.target_ns)  # no finalizer: prune is false
    assert c.client.get("handoff.dev/v1", "Source", "web", c.target_ns) is None
    objects.sources_watch.relist()  # the watch was down: the relist finds the name gone
    rec.drain()
    labels = (c.get("v1", "ConfigMap", "one") or {})["metadata"].get("labels") or {}
    assert OWNER_LABEL not in labels, \
        f"the deleted prune:false Source's objects were never orphaned: {labels}"
