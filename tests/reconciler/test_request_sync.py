"""A sync request (annotation or webhook) makes a source due at once, however long its interval."""

from __future__ import annotations

from pathlib import Path

from handoff.kube.client import Connection, KubeClient
from handoff.reconciler.config import Settings, Source
from handoff.reconciler.loop import Reconciler


def _reconciler(tmp_path: Path) -> Reconciler:
    source = Source(name="web", url="http://127.0.0.1:1/config.git", interval=3600.0)
    client = KubeClient(Connection(server="https://127.0.0.1:1"))
    return Reconciler(Settings(sources=(source,)), client, tmp_path)


def test_a_requested_source_is_due_now_and_an_unknown_one_is_refused(tmp_path: Path) -> None:
    reconciler = _reconciler(tmp_path)
    reconciler.state["web"].next_due = float("inf")
    assert reconciler.due() == []
    assert reconciler.request_sync("web")
    assert [s.name for s in reconciler.due()] == ["web"]
    assert not reconciler.request_sync("nope")
    assert [s.name for s in reconciler.sources()] == ["web"]
