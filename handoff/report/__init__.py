"""The validation report model and its writers (text, json, junit, sarif, github, markdown)."""

from handoff.report.model import (
    Case,
    Counts,
    EnvironmentRun,
    Finding,
    ObjectRef,
    ObjectResult,
    Severity,
    ValidationReport,
    WaiverUse,
)

__all__ = ["Case", "Counts", "EnvironmentRun", "Finding", "ObjectRef", "ObjectResult", "Severity",
           "ValidationReport", "WaiverUse"]
