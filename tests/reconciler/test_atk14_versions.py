"""atk14: accidental deletion across API groups. Kubernetes serves some resources under two groups (Events:
core ``v1`` and ``events.k8s.io/v1``, one object in etcd). Moving a manifest from one spelling to the other
changes only its apiVersion: the object is still rendered and must not be deleted (real kube-apiserver +
etcd and git server)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .cluster import new_cluster

pytestmark = [pytest.mark.tools, pytest.mark.slow]

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\ndata: {rev: \"1\"}\n"


def _core(ns: str) -> str:
    return f"""apiVersion: v1
kind: Event
metadata: {{name: release-marker}}
involvedObject: {{apiVersion: v1, kind: ConfigMap, name: app, namespace: {ns}}}
reason: Released
message: release 1
type: Normal
eventTime: "2026-01-01T00:00:00.000000Z"
reportingComponent: handoff.dev/release
reportingInstance: release-1
action: Release
"""


def _events_group(ns: str) -> str:
    return f"""apiVersion: events.k8s.io/v1
kind: Event
metadata: {{name: release-marker}}
regarding: {{apiVersion: v1, kind: ConfigMap, name: app, namespace: {ns}}}
reason: Released
note: release 1
type: Normal
eventTime: "2026-01-01T00:00:00.000000Z"
reportingController: handoff.dev/release
reportingInstance: release-1
action: Release
"""


def test_an_object_moved_to_the_other_group_serving_it_is_not_pruned(apiserver: Any, git_server: Any,
                                                                      tmp_path: Path) -> None:
    c = new_cluster(apiserver, git_server, tmp_path, {"app/cm.yaml": CM})
    c.repo.commit({"app/event.yaml": _core(c.target_ns)}, "a core v1 Event")
    rec = c.reconciler(renderer="plain")
    source = rec.settings.sources[0]
    first = rec.reconcile(source)
    assert first.ok, first.message
    uid = c.get("v1", "Event", "release-marker")["metadata"]["uid"]  # type: ignore[index]
    c.repo.commit({"app/event.yaml": _events_group(c.target_ns)}, "the same Event, events.k8s.io/v1")
    second = rec.reconcile(source)
    assert second.ok, second.message
    live = c.get("v1", "Event", "release-marker")
    assert live is not None, f"the Event still in the render was deleted ({second.message})"
    assert live["metadata"]["uid"] == uid
