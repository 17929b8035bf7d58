"""Human-readable text grouped by file, coloured only when asked (the CLI asks on a TTY)."""

from __future__ import annotations

from itertools import groupby

from handoff.redact import redact
from handoff.report.model import Severity, ValidationReport
from handoff.report.writers.base import WriterOptions, sorted_findings, subject

_COLORS = {Severity.ERROR: "\033[31m", Severity.WARNING: "\033[33m", Severity.INFO: "\033[36m"}
_BOLD, _RESET = "\033[1m", "\033[0m"


def write_text(report: ValidationReport, options: WriterOptions) -> str:
    lines: list[str] = []

    def paint(text: str, code: str) -> str:
        return f"{code}{text}{_RESET}" if options.color else text

    for file, group in groupby(sorted_findings(report), key=lambda f: f.file):
        lines.append(paint(file, _BOLD))
        for f in group:
            severity = paint(f"{f.severity!s:7}", _COLORS[f.severity])
            at = f"{f.path}: " if f.path and not f.message.startswith(f.path) else ""
            obj = subject(f)
            lines.append(f"  {f.line}:{f.column}  {severity} {f.rule}  {at}{f.message}{obj}")
        lines.append("")
    for w in report.waivers:
        state = "EXPIRED " if w.expired else ""
        until = f" until {w.expires}" if w.expires else ""
        target = w.object or "all objects"
        lines.append(f"waiver {state}{w.rule} for {target}{until}: {w.reason} ({w.source})")
    lines.append(report.summary())
    return redact("\n".join(lines) + "\n")
