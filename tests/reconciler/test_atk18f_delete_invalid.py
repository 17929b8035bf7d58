"""atk18f: a spec valid to the CRD's schema but refused by the reconciler (``path: ../shared``: the schema
only refuses control characters, ``config.Source`` refuses ``..``) stalls the Source, InvalidSpec, the
condition naming the key (held, the control below). The user then does what one does with a broken object:
``kubectl delete source web``. Its finalizer (put on while its earlier, valid spec was served) runs
``_finalize``, which parses the deleting object's spec again: the same ConfigError, so "finalizer kept:
... path ...", DeletionBlocked, and the object stays Terminating for good; the spec's ``path`` has nothing
to do with a prune (the inventory, the prune flag and the identity decide it). A Source whose url the
operator refuses (private hosts no longer allowed after a restart) is stuck the same way. Real
kube-apiserver + etcd and git server."""

from __future__ import annotations

import pytest

from handoff.reconciler.config import Settings
from handoff.reconciler.loop import Reconciler
from handoff.reconciler.sourcecrd import API_VERSION, KIND, PRUNE_FINALIZER
from handoff.reconciler.sourceobjects import SourceObjects
from handoff.report.model import ObjectRef

from .cluster import Cluster
from .test_source_crd_live import cluster, get_source, ready, source_object  # noqa: F401 - fixture

pytestmark = [pytest.mark.tools, pytest.mark.slow]


def test_a_source_stalled_by_a_spec_the_reconciler_refuses_can_be_deleted(cluster: Cluster) -> None:  # noqa: F811
    c = cluster
    rec = Reconciler(Settings(sources=(), namespace=c.control_ns, leader_election=False), c.client, c.workdir)
    objects = SourceObjects(rec, namespace=c.target_ns, allow_private_hosts=True)
    c.client.create(source_object(c))
    objects.sources_watch.relist()
    rec.drain()
    assert [r.ok for r in rec.run_once()] == [True]
    objects.sources_watch.relist()
    rec.drain()
    assert PRUNE_FINALIZER in ((get_source(c) or {}).get("metadata") or {}).get("finalizers", [])

    c.client.patch(ObjectRef(API_VERSION, KIND, "web", c.target_ns), {"spec": {"path": "../shared"}},
                   content_type="application/merge-patch+json")  # the API server takes it
    objects.changed(get_source(c) or {})
    rec.drain()
    stalled = ready(c) or {}
    assert (stalled.get("reason"), "spec.path" in str(stalled.get("message"))) == ("InvalidSpec", True), stalled

    c.client.delete(API_VERSION, KIND, "web", c.target_ns)
    deleting = get_source(c)
    assert deleting is not None  # held by the finalizer
    objects.changed(deleting)
    rec.drain()
    left = get_source(c)
    why = next((x for x in ((left or {}).get("status") or {}).get("conditions") or () if x["type"] == "Ready"), {})
    assert left is None, \
        ("deleting a Source Stalled by a spec the reconciler refuses (path: ../shared) completes: its prune "
         "needs the inventory, prune flag and identity, not a path that renders; it stays Terminating with "
         f"{why.get('reason')}: {why.get('message')}")
    assert c.get("v1", "ConfigMap", "one") is None  # pruned, as its spec (prune: true) says
