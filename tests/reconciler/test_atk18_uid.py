"""atk18: status is written for the object a pass was for, never for another object that took its name.
Real kube-apiserver + etcd and git server, driven step by step: the deletion and re-creation below are
"queued for the loop" while its pass runs (the watch hands them over; they run after the pass)."""

from __future__ import annotations

import pytest

from handoff.reconciler.config import Settings
from handoff.reconciler.loop import Reconciler
from handoff.reconciler.sourcecrd import API_VERSION, KIND
from handoff.reconciler.sourceobjects import SourceObjects

from .cluster import Cluster
from .test_source_crd_live import cluster, get_source, source_object  # noqa: F401 - fixture

pytestmark = [pytest.mark.tools, pytest.mark.slow]


def test_a_pass_of_a_deleted_source_does_not_write_its_status_onto_a_new_source_of_the_same_name(
        cluster: Cluster) -> None:  # noqa: F811
    """``web`` (path ``app``) is served; while a pass for it runs, ``web`` is deleted and a new ``web``
    (path ``other``, another uid, generation 1) is created. ``SourceObjects.publish`` patches
    ``/status`` by namespace and name only (sourceobjects.py ``_write_status``, no uid precondition), so
    the new object gets the old one's status: Ready=True, "applied revision …", observedGeneration 1 =
    its generation, i.e. kstatus Current and ``kubectl wait --for=condition=Ready`` satisfied, for an
    object never reconciled (path ``other`` was never rendered), until its own first pass (the queued
    ``changed`` then sees observedGeneration == generation and writes no Progressing either)."""
    c = cluster
    rec = Reconciler(Settings(sources=(), namespace=c.control_ns, leader_election=False), c.client, c.workdir)
    objects = SourceObjects(rec, namespace=c.target_ns, allow_private_hosts=True)
    c.client.create(source_object(c, prune=False, interval="1h"))
    objects.sources_watch.relist()
    rec.drain()
    c.client.delete(API_VERSION, KIND, "web", c.target_ns)
    c.client.create(source_object(c, prune=False, interval="1h", path="other"))
    new = get_source(c)
    assert new is not None and not new.get("status")
    assert [r.ok for r in rec.run_once()] == [True]  # the pass of the old spec, then its publish
    assert c.get("v1", "ConfigMap", "two") is None  # path other was never rendered
    status = (get_source(c) or {}).get("status") or {}
    ready = next((x for x in status.get("conditions") or () if x["type"] == "Ready"), {})
    assert ready.get("status") != "True", \
        f"the new Source object (never reconciled) got the deleted one's status: {ready}"
