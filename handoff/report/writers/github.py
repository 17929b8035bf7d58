"""GitHub Actions workflow commands. GitHub shows at most 10 annotations per type per step, so we
emit 10 of each and summarise the rest in one notice (the CI-surfaces code reuses ``annotation_lines``)."""

from __future__ import annotations

from collections.abc import Iterable

from handoff.redact import redact
from handoff.report.model import Finding, Severity, ValidationReport
from handoff.report.writers.base import WriterOptions, sorted_findings, subject

ANNOTATION_CAP = 10
_COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(finding: Finding) -> str:
    props = (f"file={_escape_property(finding.file)},line={finding.line},col={finding.column},"
             f"title={_escape_property(finding.rule)}")
    obj = subject(finding)
    return redact(f"::{_COMMAND[finding.severity]} {props}::{_escape_data(finding.message + obj)}")


def annotation_lines(findings: Iterable[Finding], cap: int = ANNOTATION_CAP) -> list[str]:
    """At most ``cap`` annotations per severity, then one notice counting what was left out."""
    lines: list[str] = []
    left_out: dict[Severity, int] = {}
    shown: dict[Severity, int] = {}
    for f in findings:
        if shown.get(f.severity, 0) < cap:
            shown[f.severity] = shown.get(f.severity, 0) + 1
            lines.append(annotation(f))
        else:
            left_out[f.severity] = left_out.get(f.severity, 0) + 1
    if left_out:
        parts = ", ".join(f"{n} more {_COMMAND[s]}{'s' if n != 1 else ''}"
                          for s, n in sorted(left_out.items(), reverse=True))
        lines.append(f"::notice title=handoff::{parts} not shown as annotations (see the job log)")
    return lines


def write_github(report: ValidationReport, options: WriterOptions) -> str:
    findings = sorted_findings(report)
    lines = annotation_lines(findings)
    # the full list still goes to the log, one plain line each
    lines.extend(_plain(f) for f in findings)
    lines.append(report.summary())
    return "\n".join(lines) + "\n"


def _plain(f: Finding) -> str:
    """One log line that the runner cannot read as a workflow command (a file named `:stop-commands:`, a
    message holding "\n::error::..."); the runner trims leading spaces before looking for `::`."""
    text = f"{f.file}:{f.line}:{f.column}: {f.severity}: {f.rule}: {f.message}{subject(f)}"
    line = " ".join(redact(text).splitlines())
    return f"file {line}" if line.lstrip().startswith("::") else line
