"""SARIF 2.1.0 for code-scanning UIs."""

from __future__ import annotations

import json
from typing import Any

from handoff import __version__
from handoff.redact import redact
from handoff.report.model import Severity, ValidationReport
from handoff.report.writers.base import WriterOptions, sorted_findings

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def write_sarif(report: ValidationReport, options: WriterOptions) -> str:
    findings = sorted_findings(report)
    rule_ids = sorted({f.rule for f in findings})
    results: list[dict[str, Any]] = []
    for f in findings:
        result: dict[str, Any] = {
            "ruleId": f.rule,
            "ruleIndex": rule_ids.index(f.rule),
            "level": _LEVEL[f.severity],
            "message": {"text": f.message + (f" ({f.object})" if f.object else "")},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": f.file},
                "region": {"startLine": max(f.line, 1), "startColumn": max(f.column, 1)},
            }}],
        }
        if f.path:
            result["properties"] = {"jsonPath": f.path}
        results.append(result)
    sarif = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "handoff", "version": __version__,
                                "rules": [{"id": r, "shortDescription": {"text": r}} for r in rule_ids]}},
            "results": results,
        }],
    }
    return redact(json.dumps(sarif, indent=2)) + "\n"
