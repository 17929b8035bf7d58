"""Markdown for PR bodies and job summaries, bounded to ``max_chars``; ``findings_table`` is the one
findings table every markdown surface uses (this writer, the job summary, the PR body)."""

from __future__ import annotations

from collections.abc import Sequence

from handoff.redact import redact
from handoff.report.model import Finding, Severity, ValidationReport, WaiverUse
from handoff.report.writers.base import WriterOptions

# Room kept for the closing "… and N more" line, so the table never grows past its budget.
_NOTE_ROOM = 120


def cell(text: str) -> str:
    """Table-cell text: one line, pipes escaped."""
    return " ".join(text.split()).replace("|", "\\|")


def findings_table(findings: Sequence[Finding], *, max_bytes: int | None = None, max_rows: int | None = None,
                   left_out: str = "not shown (size limit)") -> list[str]:
    """The findings as markdown table lines, the worst first: ``| severity | rule | where | message |``,
    with an ``environment`` column when they come from more than one. Rows stop at ``max_rows`` or when
    the lines (UTF-8, one newline each) would pass ``max_bytes``; a last line says how many were
    ``left_out``. Not redacted: the caller redacts the whole text."""
    if not findings:
        return []
    ordered = sorted(findings, key=lambda f: (-f.severity, f.environment, f.file, f.line, f.column, f.rule))
    by_env = len({f.environment for f in ordered}) > 1
    lines = (["| severity | environment | rule | where | message |", "|---|---|---|---|---|"] if by_env
             else ["| severity | rule | where | message |", "|---|---|---|---|"])
    used = sum(len(line.encode()) + 1 for line in lines)
    if max_bytes is not None and used + _NOTE_ROOM > max_bytes:  # not even the header fits: only the count
        note = f"{len(ordered)} finding(s) {left_out}."
        return [note] if len(note.encode()) <= max_bytes else []
    for index, f in enumerate(ordered):
        row = _row(f, by_env)
        size = len(row.encode()) + 1
        fits = max_bytes is None or used + size <= max_bytes - _NOTE_ROOM
        if not fits or (max_rows is not None and index >= max_rows):
            lines += ["", f"… and {len(ordered) - index} more finding(s) {left_out}."]
            break
        lines.append(row)
        used += size
    return lines


def waiver_lines(waivers: Sequence[WaiverUse]) -> list[str]:
    """``N waiver(s) applied:`` and one bullet per waiver (expired ones marked)."""
    if not waivers:
        return []
    lines = [f"{len(waivers)} waiver(s) applied:"]
    for w in waivers:
        env = f" in {cell(w.environment)}" if w.environment else ""
        lines.append(f"- `{cell(w.rule)}` for {cell(str(w.object or 'all objects'))}{env}: {cell(w.reason)}"
                     + (" (**expired**)" if w.expired else ""))
    return lines


def _row(f: Finding, by_env: bool) -> str:
    where = f"{f.file}:{f.line}" if f.file else ""
    obj = f" ({f.object})" if f.object else ""
    env = f" {cell(f.environment)} |" if by_env else ""
    return f"| {f.severity} |{env} {cell(f.rule)} | {cell(where)} | {cell(f.message + obj)} |"


def write_markdown(report: ValidationReport, options: WriterOptions) -> str:
    failed = report.failed(Severity.ERROR)
    head = [f"### {'❌' if failed else '✅'} {options.title}", "", f"**{report.summary()}**", ""]
    tail = ["", *waiver_lines(report.waivers)] if report.waivers else []
    budget = options.max_chars - len("\n".join(head + tail).encode()) - 2
    rows = findings_table(report.findings, max_bytes=budget)
    return redact("\n".join(head + rows + tail)) + "\n"
