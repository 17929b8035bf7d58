"""The writer interface: a ValidationReport in, one text out (already redacted)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from handoff.report.model import Finding, ValidationReport
from handoff.report.rules import RuleDoc


@dataclass(frozen=True)
class WriterOptions:
    color: bool = False
    title: str = "handoff validate"
    max_chars: int = 60_000  # markdown: a GitHub PR body holds 65,536 characters
    # descriptions of the policies that ran (``handoff.policy.pack.rule_docs``); fixed rules need none
    rules: Mapping[str, RuleDoc] = field(default_factory=dict)


class Writer(Protocol):
    def __call__(self, report: ValidationReport, options: WriterOptions) -> str: ...


def sorted_findings(report: ValidationReport) -> list[Finding]:
    return report.sorted_findings()


def where(finding: Finding) -> str:
    return f"{finding.file}:{finding.line}:{finding.column}"


def subject(finding: Finding) -> str:
    """`` (Deployment/ns/web in prod)``: what the finding is about, to follow its message; empty when
    it names neither object nor environment."""
    parts = [str(finding.object)] if finding.object else []
    if finding.environment:
        parts.append(f"in {finding.environment}")
    return f" ({' '.join(parts)})" if parts else ""
