"""f18d: a Source event whose uid differs from the served one is a re-creation only once a GET of the name
confirms the served object is gone; otherwise it is a late event of an older object and ends nothing.
This holds without any memory of ended uids (the memory is bounded: here shrunk to one), and whatever
holds the name now (the event's object, a third one, nothing) is what is served. Real kube-apiserver +
etcd and git server."""

from __future__ import annotations

from typing import Any

import pytest

from handoff.reconciler import sourceobjects
from handoff.reconciler.config import Settings
from handoff.reconciler.loop import Reconciler
from handoff.reconciler.objects import OWNER_LABEL
from handoff.reconciler.sourcecrd import API_VERSION, KIND
from handoff.reconciler.sourceobjects import SourceObjects

from .cluster import Cluster
from .test_source_crd_live import cluster, get_source, source_object  # noqa: F401 - fixture

pytestmark = [pytest.mark.tools, pytest.mark.slow]


def _serving(c: Cluster) -> tuple[Reconciler, SourceObjects]:
    rec = Reconciler(Settings(sources=(), namespace=c.control_ns, leader_election=False), c.client, c.workdir)
    objects = SourceObjects(rec, namespace=c.target_ns, allow_private_hosts=True)
    c.client.create(source_object(c, prune=False))
    objects.sources_watch.relist()
    rec.drain()
    assert [r.ok for r in rec.run_once()] == [True]
    return rec, objects


def _recreate(c: Cluster, objects: SourceObjects, rec: Reconciler, **spec: Any) -> dict[str, Any]:
    """Delete ``web`` and create it again; the new one is served through a Secret event's GET, before the
    Sources watch delivers anything."""
    c.client.delete(API_VERSION, KIND, "web", c.target_ns)
    c.client.create(source_object(c, prune=False, **spec))
    objects.secret_changed({"metadata": {"namespace": c.target_ns, "name": "git"}})
    rec.drain()
    assert [r.ok for r in rec.run_once()] == [True]
    return get_source(c) or {}


def _owner_labels(c: Cluster, name: str) -> dict[str, str]:
    labels: dict[str, str] = ((c.get("v1", "ConfigMap", name) or {}).get("metadata") or {}).get("labels") or {}
    return labels


def test_an_evicted_ended_uids_late_event_does_not_end_the_live_source(
        cluster: Cluster, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    c = cluster
    monkeypatch.setattr(sourceobjects, "_ENDED_KEPT", 1)  # the bound, shrunk: the second end evicts the first
    rec, objects = _serving(c)
    first = get_source(c) or {}  # uid A, served, then ended by its successor
    _recreate(c, objects, rec, path="other")  # uid A2 ends A
    live = _recreate(c, objects, rec)  # uid B ends A2: A is no longer remembered
    assert first["metadata"]["uid"] not in objects.ended
    objects.changed(first)  # A's late MODIFIED, then its DELETED
    objects.deleted(first)
    rec.drain()
    name = f"{c.target_ns}/web"
    assert {s.name: s.path for s in rec.sources()}.get(name) == "app"
    assert objects.objects[name].uid == live["metadata"]["uid"]
    assert OWNER_LABEL in _owner_labels(c, "one"), "the live Source's ConfigMap must keep its owner label"
    assert first["metadata"]["uid"] in objects.ended, "the late uid, confirmed stale, is remembered again"


def test_a_late_event_of_an_object_replaced_since_serves_what_holds_the_name_now(
        cluster: Cluster) -> None:  # noqa: F811
    c = cluster
    rec, objects = _serving(c)
    served = get_source(c) or {}
    c.client.delete(API_VERSION, KIND, "web", c.target_ns)
    between = c.client.create(source_object(c, prune=False, path="other"))  # never seen by this process
    c.client.delete(API_VERSION, KIND, "web", c.target_ns)
    now = c.client.create(source_object(c, prune=False))
    objects.changed(between)  # the watch's first event after the gap is of the object in between
    rec.drain()
    name = f"{c.target_ns}/web"
    assert objects.objects[name].uid == now["metadata"]["uid"], "what holds the name now is served"
    assert {served["metadata"]["uid"], between["metadata"]["uid"]} <= set(objects.ended)
    objects.deleted(between)  # its late DELETED ends nothing
    rec.drain()
    assert [r.ok for r in rec.run_once()] == [True]
    assert {s.name: s.path for s in rec.sources()}.get(name) == "app"
    assert OWNER_LABEL in _owner_labels(c, "one")


def test_a_late_event_when_the_name_is_free_ends_the_served_source_and_serves_nothing(
        cluster: Cluster) -> None:  # noqa: F811
    c = cluster
    rec, objects = _serving(c)
    c.client.delete(API_VERSION, KIND, "web", c.target_ns)
    between = c.client.create(source_object(c, prune=False, path="other"))
    c.client.delete(API_VERSION, KIND, "web", c.target_ns)
    objects.changed(between)
    rec.drain()
    assert all(s.name != f"{c.target_ns}/web" for s in rec.sources())
    assert OWNER_LABEL not in _owner_labels(c, "one"), "the served Source, gone, is orphaned (prune: false)"
    assert between["metadata"]["uid"] in objects.ended


def test_a_late_event_does_not_end_a_stalled_successor_waiting_for_its_secret(
        cluster: Cluster) -> None:  # noqa: F811
    c = cluster
    rec, objects = _serving(c)
    c.client.delete(API_VERSION, KIND, "web", c.target_ns)
    between = c.client.create(source_object(c, prune=False, path="other"))  # never seen by this process
    c.client.delete(API_VERSION, KIND, "web", c.target_ns)
    waiting = c.client.create(source_object(c, prune=False, secretRef={"name": "later"}))
    objects.changed(waiting)  # Stalled: its Secret does not exist yet
    rec.drain()
    name = f"{c.target_ns}/web"
    assert name in objects.waiting and name not in objects.objects
    objects.deleted(between)  # a DELETED of it alone ends nothing of the successor's
    assert name in objects.waiting
    objects.changed(between)  # the late ADDED and DELETED of the object in between
    objects.deleted(between)
    rec.drain()
    assert name in objects.waiting, "the Stalled successor still waits for its Secret"
    secret = c.client.get("v1", "Secret", "git", c.target_ns) or {}
    c.client.create({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "later", "namespace": c.target_ns},
                     "data": secret["data"]})
    objects.secret_changed({"metadata": {"namespace": c.target_ns, "name": "later"}})
    rec.drain()
    assert objects.objects[name].uid == waiting["metadata"]["uid"], "the successor is served once its Secret is"
    assert {s.name: s.path for s in rec.sources()}.get(name) == "app"
