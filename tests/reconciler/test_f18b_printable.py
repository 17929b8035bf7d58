"""Tenant-controlled text is stored and printed without terminal control characters; a source no longer
served leaves no metric series."""

from __future__ import annotations

from pathlib import Path

from handoff.reconciler.metrics import Metrics
from handoff.reconciler.report_status import StatusReporter
from handoff.reconciler.sourcestatus import condition
from handoff.reconciler.sourcetable import row_of, table
from handoff.reconciler.status import clip, printable

EVIL = "x\x1b]0;owned\x07\x1b[2J\x9b31m\x7f\r"


def test_control_characters_are_escaped_visibly_and_tab_and_newline_kept() -> None:
    assert printable(EVIL) == "x\\x1b]0;owned\\x07\\x1b[2J\\x9b31m\\x7f\\x0d"
    assert printable("a\tb\nc é ✓") == "a\tb\nc é ✓"
    assert "\x1b" not in clip(EVIL) and "\x07" not in clip(EVIL)
    assert "\x1b" not in condition("Ready", "False", "Refused", EVIL, 1)["message"]


def test_get_sources_escapes_every_cell_even_a_status_someone_else_wrote() -> None:
    row = row_of({"metadata": {"namespace": "team-a", "name": "web", "creationTimestamp": "2026-01-01T00:00:00Z"},
                  "status": {"lastAppliedRevision": EVIL, "conditions": [
                      {"type": "Ready", "status": "False", "reason": EVIL, "message": EVIL}]}})
    printed = table([row], colour=False)
    assert not any(ch in printed for ch in "\x1b\x07\x9b\x7f\r")
    assert "\\x1b]0;owned" in printed


def test_forgetting_a_source_removes_each_of_its_series_and_keeps_the_others(tmp_path: Path) -> None:
    m = Metrics()
    reporter = StatusReporter(None, tmp_path, m)
    for source in ("team-a/gone", "team-a/kept"):
        m.duration.labels(source).observe(1.0)
        m.last_success.labels(source).set(1.0)
        m.errors.labels(source, "git").inc()
        m.webhook_triggered.labels(source).inc()
        reporter.posted.labels(source, "success").inc()
        reporter.api_calls.labels(source).set(2)
    m.forget("team-a/gone")
    text = m.exposition().decode()
    assert 'source="team-a/gone"' not in text
    assert text.count('source="team-a/kept"') >= 6
