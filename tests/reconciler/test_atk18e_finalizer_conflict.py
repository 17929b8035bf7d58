"""atk18e: ``_keep_finalizer`` puts ``handoff.dev/prune`` on with a resourceVersion precondition and, on a
conflict, leaves it to "the next event for the object". The watch delivers a new Source's ADDED and then a
MODIFIED for a metadata write made meanwhile (a label another controller sets); the loop handles both
after that write. The ADDED's finalizer patch conflicts (its resourceVersion is old); the MODIFIED is
``_same_but_status`` (same uid, generation, annotation, and the same finalizers: none, as the patch did not
land), so nothing tries again: a Source whose spec prunes carries no finalizer, and deleting it orphans
its objects instead of pruning them. Real kube-apiserver + etcd and git server."""

from __future__ import annotations

import pytest

from handoff.reconciler.config import Settings
from handoff.reconciler.loop import Reconciler
from handoff.reconciler.objects import OWNER_LABEL
from handoff.reconciler.sourcecrd import API_VERSION, KIND, PRUNE_FINALIZER
from handoff.reconciler.sourceobjects import SourceObjects
from handoff.report.model import ObjectRef

from .cluster import Cluster
from .test_source_crd_live import cluster, get_source, source_object  # noqa: F401 - fixture

pytestmark = [pytest.mark.tools, pytest.mark.slow]


def test_a_finalizer_patch_that_conflicts_is_tried_again(cluster: Cluster) -> None:  # noqa: F811
    c = cluster
    rec = Reconciler(Settings(sources=(), namespace=c.control_ns, leader_election=False), c.client, c.workdir)
    objects = SourceObjects(rec, namespace=c.target_ns, allow_private_hosts=True)
    c.client.create(source_object(c))  # prune: true (the default)
    added = get_source(c) or {}
    c.client.patch(ObjectRef(API_VERSION, KIND, "web", c.target_ns), {"metadata": {"labels": {"team": "a"}}},
                   content_type="application/merge-patch+json")  # another controller, before the loop handles
    modified = get_source(c) or {}
    objects.changed(added)  # the watch's ADDED, then its MODIFIED, in order
    objects.changed(modified)
    rec.drain()
    assert [r.ok for r in rec.run_once()] == [True]
    objects.changed(get_source(c) or {})  # the status write's own event
    rec.drain()
    finalizers = ((get_source(c) or {}).get("metadata") or {}).get("finalizers") or []
    assert PRUNE_FINALIZER in finalizers, \
        (f"a served Source whose spec prunes carries {PRUNE_FINALIZER} even when the first patch conflicted "
         f"with another write: finalizers={finalizers}")


def test_deleting_it_then_prunes_its_objects(cluster: Cluster) -> None:  # noqa: F811
    """The consequence: the same Source deleted leaves its ConfigMap, owner label removed, not deleted."""
    c = cluster
    rec = Reconciler(Settings(sources=(), namespace=c.control_ns, leader_election=False), c.client, c.workdir)
    objects = SourceObjects(rec, namespace=c.target_ns, allow_private_hosts=True)
    c.client.create(source_object(c))
    added = get_source(c) or {}
    c.client.patch(ObjectRef(API_VERSION, KIND, "web", c.target_ns), {"metadata": {"labels": {"team": "a"}}},
                   content_type="application/merge-patch+json")
    modified = get_source(c) or {}
    objects.changed(added)
    objects.changed(modified)
    rec.drain()
    assert [r.ok for r in rec.run_once()] == [True]
    objects.changed(get_source(c) or {})
    rec.drain()
    assert OWNER_LABEL in (((c.get("v1", "ConfigMap", "one") or {}).get("metadata") or {}).get("labels") or {})
    last = get_source(c) or {}
    c.client.delete(API_VERSION, KIND, "web", c.target_ns)
    gone = get_source(c)
    if gone is not None:  # the finalizer held it: its deletion event
        objects.changed(gone)
        rec.drain()
    else:
        objects.deleted(last)
        rec.drain()
    left = c.get("v1", "ConfigMap", "one")
    assert left is None, \
        ("deleting a Source whose spec prunes deletes its objects; its ConfigMap was kept with labels "
         f"{((left or {}).get('metadata') or {}).get('labels')}")
