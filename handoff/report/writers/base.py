"""The writer interface: a ValidationReport in, one text out (already redacted)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from handoff.report.model import Finding, ValidationReport


@dataclass(frozen=True)
class WriterOptions:
    color: bool = False
    title: str = "handoff validate"
    max_chars: int = 60_000  # markdown: a GitHub PR body holds 65,536 characters


class Writer(Protocol):
    def __call__(self, report: ValidationReport, options: WriterOptions) -> str: ...


def sorted_findings(report: ValidationReport) -> list[Finding]:
    return sorted(report.findings, key=lambda f: (f.file, f.line, f.column, -f.severity, f.rule))


def where(finding: Finding) -> str:
    return f"{finding.file}:{finding.line}:{finding.column}"
