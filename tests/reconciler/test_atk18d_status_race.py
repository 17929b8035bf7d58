"""atk18d: a spec edit made while a pass runs. Its MODIFIED event carries the status as it was at the edit
(before the pass's ``publish``); the loop handles it after the pass. ``_changed`` then writes
"Progressing" with that stale status as the base, and ``sourcestatus.patch`` replaces ``/status`` whole:
the revision and ``observedGeneration`` the pass just wrote are overwritten by older values. Real
kube-apiserver + etcd and git server."""

from __future__ import annotations

import pytest

from handoff.reconciler.config import Settings
from handoff.reconciler.loop import Reconciler
from handoff.reconciler.sourcecrd import API_VERSION, KIND
from handoff.reconciler.sourceobjects import SourceObjects
from handoff.report.model import ObjectRef

from .cluster import Cluster
from .test_source_crd_live import cluster, get_source, source_object  # noqa: F401 - fixture

pytestmark = [pytest.mark.tools, pytest.mark.slow]


def test_an_edit_during_a_pass_does_not_roll_the_pass_status_back(cluster: Cluster) -> None:  # noqa: F811
    c = cluster
    rec = Reconciler(Settings(sources=(), namespace=c.control_ns, leader_election=False), c.client, c.workdir)
    objects = SourceObjects(rec, namespace=c.target_ns, allow_private_hosts=True)
    c.client.create(source_object(c))
    objects.sources_watch.relist()
    rec.drain()  # generation 1 served, "Progressing" written (observedGeneration 0)
    # the user edits the spec while the pass runs: the watch's MODIFIED event (generation 2) carries the
    # status of that moment and is handled after the pass
    c.client.patch(ObjectRef(API_VERSION, KIND, "web", c.target_ns), {"spec": {"interval": "2s"}},
                   content_type="application/merge-patch+json")
    edit_event = get_source(c) or {}
    assert edit_event["metadata"]["generation"] == 2
    assert [r.ok for r in rec.run_once()] == [True]  # the pass of generation 1 and its publish
    after_pass = (get_source(c) or {}).get("status") or {}
    assert after_pass.get("observedGeneration") == 1 and after_pass.get("lastAppliedRevision")
    objects.changed(edit_event)
    rec.drain()
    now = (get_source(c) or {}).get("status") or {}
    assert now.get("lastAppliedRevision") == after_pass["lastAppliedRevision"], \
        f"the pass's lastAppliedRevision must survive the edit's status write: {now.get('lastAppliedRevision')!r}"
    assert int(now.get("observedGeneration") or 0) >= 1, \
        f"observedGeneration must not go back below the generation a pass applied: {now.get('observedGeneration')}"


def test_a_same_settings_edit_during_a_pass_is_observed(cluster: Cluster) -> None:  # noqa: F811
    """The same race, for an edit that parses to the same settings (1h as 60m): no pass is made due for it,
    so ``_changed`` must observe the new generation itself (``caught_up``). It decides that from the stale
    event's ``observedGeneration`` (0, not the 1 the pass wrote), writes "Progressing" instead, and the
    Source stays Ready=Unknown with observedGeneration behind until its interval (1h) brings a pass."""
    c = cluster
    rec = Reconciler(Settings(sources=(), namespace=c.control_ns, leader_election=False), c.client, c.workdir)
    objects = SourceObjects(rec, namespace=c.target_ns, allow_private_hosts=True)
    c.client.create(source_object(c, interval="1h"))
    objects.sources_watch.relist()
    rec.drain()
    c.client.patch(ObjectRef(API_VERSION, KIND, "web", c.target_ns), {"spec": {"interval": "60m"}},
                   content_type="application/merge-patch+json")  # during the pass
    edit_event = get_source(c) or {}
    assert [r.ok for r in rec.run_once()] == [True]
    objects.changed(edit_event)
    rec.drain()
    now = (get_source(c) or {}).get("status") or {}
    ready = next((x for x in now.get("conditions") or () if x["type"] == "Ready"), {})
    assert now.get("observedGeneration") == 2 and ready.get("status") == "True", \
        ("an edit that changes no setting must be observed at once with the pass's Ready condition: "
         f"observedGeneration={now.get('observedGeneration')}, Ready={ready.get('status')} {ready.get('reason')}")
