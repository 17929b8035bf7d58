"""Markdown for PR bodies and job summaries, bounded to ``max_chars``."""

from __future__ import annotations

from handoff.redact import redact
from handoff.report.model import Severity, ValidationReport
from handoff.report.writers.base import WriterOptions, sorted_findings

_ICON = {Severity.ERROR: "❌ error", Severity.WARNING: "⚠️ warning", Severity.INFO: "ℹ️ info"}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def write_markdown(report: ValidationReport, options: WriterOptions) -> str:
    failed = report.failed(Severity.ERROR)
    head = [f"### {'❌' if failed else '✅'} {options.title}", "", f"**{report.summary()}**", ""]
    findings = sorted_findings(report)
    rows: list[str] = []
    if findings:
        rows += ["| severity | location | rule | message |", "| --- | --- | --- | --- |"]
    tail: list[str] = []
    if report.waivers:
        tail += ["", f"{len(report.waivers)} waiver(s) applied:"]
        tail += [f"- `{w.rule}` for {w.object or 'all objects'}: {_cell(w.reason)}"
                 + (" (**expired**)" if w.expired else "") for w in report.waivers]
    budget = options.max_chars - len("\n".join(head + tail)) - 200
    used = 0
    for i, f in enumerate(findings):
        obj = f" ({f.object})" if f.object else ""
        row = (f"| {_ICON[f.severity]} | `{_cell(f.file)}:{f.line}:{f.column}` | `{_cell(f.rule)}` | "
               f"{_cell(f.message + obj)} |")
        if used + len(row) + 1 > budget:
            rows.append("")
            rows.append(f"… and {len(findings) - i} more finding(s) not shown (size limit).")
            break
        rows.append(row)
        used += len(row) + 1
    return redact("\n".join(head + rows + tail)) + "\n"
