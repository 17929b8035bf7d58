"""atk18e (held): a Source deleted while its finalizer's prune is deferred, its finalizer then removed by
hand, and the name created again with ``prune: false``. The old uid's objects are released (owner label
removed, inventory deleted) and the new one serves them as its own, without a finalizer. Real
kube-apiserver + etcd and git server."""

from __future__ import annotations

import pytest

from handoff.reconciler.config import Settings
from handoff.reconciler.inventory import read
from handoff.reconciler.loop import Reconciler
from handoff.reconciler.objects import OWNER_LABEL
from handoff.reconciler.sourcecrd import API_VERSION, KIND, PRUNE_FINALIZER
from handoff.reconciler.sourceobjects import SourceObjects
from handoff.report.model import ObjectRef

from .cluster import Cluster
from .test_source_crd_live import cluster, get_source, source_object  # noqa: F401 - fixture

pytestmark = [pytest.mark.tools, pytest.mark.slow]


def test_a_source_recreated_without_prune_after_a_blocked_deletion_keeps_its_objects(
        cluster: Cluster) -> None:  # noqa: F811
    c = cluster
    rec = Reconciler(Settings(sources=(), namespace=c.control_ns, leader_election=False), c.client, c.workdir)
    objects = SourceObjects(rec, namespace=c.target_ns, allow_private_hosts=True)
    c.client.create(source_object(c))
    objects.sources_watch.relist()
    rec.drain()
    assert [r.ok for r in rec.run_once()] == [True]
    objects.changed(get_source(c) or {})
    rec.drain()
    c.client.create(source_object(c, "other", url=c.url.replace(".git", "-missing.git")))
    objects.changed(get_source(c, "other") or {})
    rec.drain()
    c.client.delete(API_VERSION, KIND, "web", c.target_ns)
    deleting = get_source(c) or {}
    objects.changed(deleting)
    rec.drain()
    assert PRUNE_FINALIZER in ((get_source(c) or {})["metadata"].get("finalizers") or [])  # blocked
    c.client.patch(ObjectRef(API_VERSION, KIND, "web", c.target_ns), {"metadata": {"finalizers": None}},
                   content_type="application/merge-patch+json")  # the user's way out
    assert get_source(c) is None
    objects.deleted(deleting)
    c.client.create(source_object(c, prune=False))
    objects.changed(get_source(c) or {})
    rec.drain()
    assert any(r.ok for r in rec.run_once())
    objects.changed(get_source(c) or {})
    rec.drain()
    live = get_source(c) or {}
    labels = ((c.get("v1", "ConfigMap", "one") or {}).get("metadata") or {}).get("labels") or {}
    assert OWNER_LABEL in labels, f"the re-created Source serves the ConfigMap as its own: {labels}"
    assert PRUNE_FINALIZER not in (live["metadata"].get("finalizers") or []), "prune: false puts no finalizer on"
    listed = read(c.client, c.control_ns, f"{c.target_ns}/web")
    assert listed is not None and listed.objects, "the new Source's inventory lists its objects"
