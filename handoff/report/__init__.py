"""The validation report model and its writers (text, json, junit, sarif, github, markdown)."""

from handoff.report.model import (
    Finding,
    ObjectRef,
    ObjectResult,
    Severity,
    ValidationReport,
    WaiverUse,
)

__all__ = ["Finding", "ObjectRef", "ObjectResult", "Severity", "ValidationReport", "WaiverUse"]
