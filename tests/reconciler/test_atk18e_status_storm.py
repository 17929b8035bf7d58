"""atk18e: another writer touching a Source object continuously (a label bumped by another controller: any
write moves the object's resourceVersion, which ``sourcestatus.patch`` tests). The pass's status write is
redone on the stored status on a 422, at most ``_STATUS_TRIES`` times; the question is whether the pass's
result is ever written, and whether it is kept. Real kube-apiserver + etcd and git server."""

from __future__ import annotations

import contextlib
import threading

import pytest

from handoff.kube.client import KubeError
from handoff.reconciler.config import Settings
from handoff.reconciler.loop import Reconciler
from handoff.reconciler.sourcecrd import API_VERSION, KIND
from handoff.reconciler.sourceobjects import SourceObjects
from handoff.report.model import ObjectRef

from .cluster import Cluster
from .test_source_crd_live import cluster, get_source, source_object  # noqa: F401 - fixture

pytestmark = [pytest.mark.tools, pytest.mark.slow]


def _storm(c: Cluster, stop: threading.Event, period: float) -> threading.Thread:
    def run() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            with contextlib.suppress(KubeError):  # a write refused under load: the next one follows
                c.client.patch(ObjectRef(API_VERSION, KIND, "web", c.target_ns),
                               {"metadata": {"labels": {"tick": str(n)}}},
                               content_type="application/merge-patch+json")
            stop.wait(period)
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


@pytest.mark.parametrize("period", [0.1, 0.0])
def test_a_pass_status_is_written_while_another_writer_updates_the_object(
        cluster: Cluster, period: float) -> None:  # noqa: F811
    c = cluster
    rec = Reconciler(Settings(sources=(), namespace=c.control_ns, leader_election=False), c.client, c.workdir)
    objects = SourceObjects(rec, namespace=c.target_ns, allow_private_hosts=True)
    c.client.create(source_object(c, interval="1h"))
    objects.sources_watch.relist()
    rec.drain()  # served, "Progressing" written
    stop = threading.Event()
    writer = _storm(c, stop, period)
    try:
        results = rec.run_once()  # the pass and its publish, while the other writer writes
    finally:
        stop.set()
        writer.join()
    assert [r.ok for r in results] == [True]
    objects.changed(get_source(c) or {})  # the writer stopped: its last event, handled between passes
    rec.drain()
    status = (get_source(c) or {}).get("status") or {}
    ready = next((x for x in status.get("conditions") or () if x["type"] == "Ready"), {})
    assert status.get("lastAppliedRevision") and ready.get("status") == "True", \
        (f"a pass's result is written even while another writer updates the object (every {period} s), "
         f"or retried until it is: lastAppliedRevision={status.get('lastAppliedRevision')!r}, "
         f"Ready={ready.get('status')} {ready.get('reason')}")
