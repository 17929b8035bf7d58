"""Events on Source objects, against the harness's real kube-apiserver + etcd and git server, read as
``kubectl get events --field-selector involvedObject.kind=Source,involvedObject.name=NAME`` reads them:
a revision applied, objects pruned, drift reverted (a repeat counted on one Event, as client-go's event
series do), a revision rejected."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from handoff.reconciler.config import Settings
from handoff.reconciler.events import EventRecorder, Involved, pass_events
from handoff.reconciler.loop import Reconciler
from handoff.reconciler.sourcecrd import API_VERSION, KIND
from handoff.reconciler.sourceobjects import SourceObjects
from handoff.reconciler.status import FAILED, SUCCEEDED, PassResult
from handoff.report.model import ObjectRef

from .cluster import Cluster
from .test_source_crd_live import cluster as cluster  # noqa: PLC0414 (the fixture, shared)
from .test_source_crd_live import eventually, get_source, source_object

pytestmark = [pytest.mark.tools, pytest.mark.slow]


@pytest.fixture
def running(cluster: Cluster) -> Iterator[Reconciler]:
    rec = Reconciler(Settings(sources=(), namespace=cluster.control_ns, leader_election=False),
                     cluster.client, cluster.workdir)
    objects = SourceObjects(rec, allow_private_hosts=True)  # the git server: loopback
    stop = threading.Event()
    objects.start(stop)
    loop = threading.Thread(target=rec.run, args=(stop,), kwargs={"tick": 0.2}, daemon=True)
    loop.start()
    yield rec
    stop.set()
    loop.join(timeout=10)


def events_of(c: Cluster, name: str) -> list[dict[str, Any]]:
    page = c.client.request("GET", f"/api/v1/namespaces/{c.target_ns}/events", params={
        "fieldSelector": f"involvedObject.kind={KIND},involvedObject.name={name}"})
    return list(page.get("items") or [])


def by_reason(c: Cluster, name: str, reason: str) -> list[dict[str, Any]]:
    return [e for e in events_of(c, name) if e["reason"] == reason]


def test_a_source_object_gets_events_for_apply_prune_and_drift(cluster: Cluster, running: Reconciler) -> None:
    c = cluster
    c.client.create(source_object(c))
    applied = eventually(lambda: by_reason(c, "web", "ReconciliationSucceeded"))
    source = get_source(c) or {}
    revision = source["status"]["lastAppliedRevision"]
    assert applied[0]["type"] == "Normal"
    assert f"applied revision {revision[:12]}" in applied[0]["message"]
    assert applied[0]["involvedObject"]["uid"] == source["metadata"]["uid"]
    assert applied[0]["involvedObject"]["apiVersion"] == API_VERSION

    # a new path: the old path's object is pruned, and the Source says which
    c.client.patch(ObjectRef(API_VERSION, KIND, "web", c.target_ns), {"spec": {"path": "other"}},
                   content_type="application/merge-patch+json")
    pruned = eventually(lambda: by_reason(c, "web", "Pruned"))
    assert pruned[0]["message"] == f"pruned 1 object(s): ConfigMap/{c.target_ns}/one"

    # the same drift twice: one Event, counted twice
    for expected in (1, 2):
        eventually(lambda: (c.get("v1", "ConfigMap", "two") or {}).get("data") == {"rev": "1"})
        c.client.patch(ObjectRef("v1", "ConfigMap", "two", c.target_ns), {"data": {"rev": "tampered"}},
                       content_type="application/merge-patch+json", params={"fieldManager": "intruder"})
        reverted = eventually(lambda expected=expected: [
            e for e in by_reason(c, "web", "DriftReverted") if int(e.get("count") or 0) >= expected])
        assert len(by_reason(c, "web", "DriftReverted")) == 1
        assert reverted[0]["type"] == "Warning"
        assert reverted[0]["message"] == f"drift reverted in 1 object(s): ConfigMap/{c.target_ns}/two"


def test_a_rejected_revision_is_a_warning_event_on_its_source(cluster: Cluster, running: Reconciler) -> None:
    c = cluster
    other = f"team-b-{uuid.uuid4().hex[:6]}"
    c.repo.commit({"reach/cm.yaml": f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: x, namespace: {other}}}\n"
                                    "data: {a: b}\n"}, "reach into team-b")
    c.client.create(source_object(c, "reach", path="reach"))
    denied = eventually(lambda: by_reason(c, "reach", "AuthorityDenied"))
    assert denied[0]["type"] == "Warning"
    assert other in denied[0]["message"] and "(attempt" not in denied[0]["message"]


def test_repeats_count_on_one_event_across_recorders(cluster: Cluster) -> None:
    """A restarted reconciler (a new recorder) counts on the Event its predecessor created."""
    c = cluster
    created = c.client.create(source_object(c, "repeat"))
    about = Involved(ObjectRef(API_VERSION, KIND, "repeat", c.target_ns), created["metadata"]["uid"])
    result = PassResult(source=f"{c.target_ns}/repeat", result=FAILED, error_kind="render",
                        message="revision abc not applied: boom (attempt 1, retrying in 1s)")
    for attempt in (1, 2, 3):
        recorder = EventRecorder(c.client)
        for e in pass_events(PassResult(**{**result.__dict__,
                                           "message": result.message.replace("attempt 1", f"attempt {attempt}")})):
            recorder.record(about, e.reason, e.message, warning=e.warning)
    failed = by_reason(c, "repeat", "RenderFailed")
    assert len(failed) == 1 and failed[0]["count"] == 3
    assert failed[0]["message"] == "revision abc not applied: boom"
    assert pass_events(PassResult(source="x", result=SUCCEEDED, message="no change")) == []

