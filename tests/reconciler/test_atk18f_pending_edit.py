"""atk18f: a pass's status write that loses every try to another writer is kept in ``pending_status`` and
"written on the object's next event" (docs/reconciler.md; atk18e's status storm, fixed in f18e). Another
spelling of that next event: a spec edit that parses to the same settings (``interval: 1h`` written
``60m``, as a reformatting ``kubectl apply`` does). ``_changed`` pops the pending write for every event
that is not a status echo ("computed for a version this one replaces"), but this edit makes no pass due,
so the lost result is never written: the Source stays "Progressing", no ``lastAppliedRevision``, until its
interval (an hour). Real kube-apiserver + etcd and git server; the other writer is a label patched in a
tight loop during the pass, as in test_atk18e_status_storm.py."""

from __future__ import annotations

import threading

import pytest

from handoff.reconciler.config import Settings
from handoff.reconciler.loop import Reconciler
from handoff.reconciler.sourcecrd import API_VERSION, KIND
from handoff.reconciler.sourceobjects import SourceObjects
from handoff.report.model import ObjectRef

from .cluster import Cluster
from .test_atk18e_status_storm import _storm
from .test_source_crd_live import cluster, get_source, source_object  # noqa: F401 - fixture

pytestmark = [pytest.mark.tools, pytest.mark.slow]


def test_a_pending_status_survives_an_edit_that_makes_no_pass(cluster: Cluster) -> None:  # noqa: F811
    c = cluster
    rec = Reconciler(Settings(sources=(), namespace=c.control_ns, leader_election=False), c.client, c.workdir)
    objects = SourceObjects(rec, namespace=c.target_ns, allow_private_hosts=True)
    c.client.create(source_object(c, interval="1h"))
    objects.sources_watch.relist()
    rec.drain()
    stop = threading.Event()
    writer = _storm(c, stop, 0.0)
    try:
        results = rec.run_once()
    finally:
        stop.set()
        writer.join()
    assert [r.ok for r in results] == [True]
    if not objects.pending_status:
        pytest.skip("the other writer did not make the pass's status write lose this time")
    c.client.patch(ObjectRef(API_VERSION, KIND, "web", c.target_ns), {"spec": {"interval": "60m"}},
                   content_type="application/merge-patch+json")  # the same settings, generation 2
    objects.changed(get_source(c) or {})  # the next event: the edit
    rec.drain()
    assert rec.due() == []  # no pass is made for it (same settings)
    status = (get_source(c) or {}).get("status") or {}
    ready = next((x for x in status.get("conditions") or () if x["type"] == "Ready"), {})
    assert status.get("lastAppliedRevision") and ready.get("status") == "True", \
        ("the pass's result, lost to another writer, is written on the object's next event, also when that "
         "event is an edit that makes no pass: lastAppliedRevision="
         f"{status.get('lastAppliedRevision')!r}, Ready={ready.get('status')} {ready.get('reason')}, "
         f"observedGeneration={status.get('observedGeneration')}")
