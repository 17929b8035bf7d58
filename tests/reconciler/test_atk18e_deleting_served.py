"""atk18e: a Source deleted while its finalizer's prune cannot finish (deferred: another Source of the
namespace cannot be fetched now, so what it may have taken over is not pruned). ``_finalize`` keeps the
finalizer and writes "DeletionBlocked", but the deleting Source stays served: its next pass applies its
revision again (objects a partial prune deleted come back) and its ``publish`` replaces the
DeletionBlocked status with Ready=True, so the user sees a healthy Source while its deletion is stuck.
Real kube-apiserver + etcd and git server."""

from __future__ import annotations

import pytest

from handoff.reconciler.config import Settings
from handoff.reconciler.loop import Reconciler
from handoff.reconciler.sourcecrd import API_VERSION, KIND, PRUNE_FINALIZER
from handoff.reconciler.sourceobjects import SourceObjects

from .cluster import Cluster
from .test_source_crd_live import cluster, get_source, source_object  # noqa: F401 - fixture

pytestmark = [pytest.mark.tools, pytest.mark.slow]


def test_a_deleting_source_whose_prune_is_blocked_is_not_served(cluster: Cluster) -> None:  # noqa: F811
    c = cluster
    rec = Reconciler(Settings(sources=(), namespace=c.control_ns, leader_election=False), c.client, c.workdir)
    objects = SourceObjects(rec, namespace=c.target_ns, allow_private_hosts=True)
    c.client.create(source_object(c))  # prune: true
    objects.sources_watch.relist()
    rec.drain()
    assert [r.ok for r in rec.run_once()] == [True]
    objects.changed(get_source(c) or {})
    rec.drain()
    assert PRUNE_FINALIZER in (get_source(c) or {})["metadata"]["finalizers"]
    # another Source of the namespace whose repository cannot be fetched now: prune defers what it may own
    c.client.create(source_object(c, "other", url=c.url.replace(".git", "-missing.git")))
    objects.changed(get_source(c, "other") or {})
    rec.drain()
    c.client.delete(API_VERSION, KIND, "web", c.target_ns)
    deleting = get_source(c) or {}
    assert deleting["metadata"].get("deletionTimestamp")
    objects.changed(deleting)
    rec.drain()
    blocked = next((x for x in ((get_source(c) or {}).get("status") or {}).get("conditions") or ()
                    if x["type"] == "Stalled"), {})
    assert blocked.get("reason") == "DeletionBlocked", f"the prune must be deferred for this attack: {blocked}"
    rec.run_once()  # the next round of due passes
    served = {s.name for s in rec.sources()}
    ready = next((x for x in ((get_source(c) or {}).get("status") or {}).get("conditions") or ()
                  if x["type"] == "Ready"), {})
    assert f"{c.target_ns}/web" not in served and ready.get("reason") == "DeletionBlocked", \
        ("a Source being deleted is finalized, not served: no pass applies its revision again and its status "
         f"keeps saying why the deletion is blocked; served={sorted(served)}, Ready={ready.get('status')} "
         f"{ready.get('reason')}")
