"""SARIF 2.1.0 for code-scanning UIs: every rule described (short and full text, a help link), every
result with ``partialFingerprints`` that survive line moves (rule id + environment + object + JSON path),
so code scanning tracks one alert across commits instead of closing and reopening it."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from handoff import __version__
from handoff.redact import redact
from handoff.report.model import Finding, Severity, ValidationReport
from handoff.report.rules import RuleDoc, rule_doc
from handoff.report.writers.base import WriterOptions, sorted_findings, subject

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
FINGERPRINT = "handoffFinding/v1"
_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def fingerprint(finding: Finding) -> str:
    """What the finding is about, not where it is: the line and the message (which may quote a value)
    stay out. A finding on no object (a parse error) is identified by its file and rule."""
    obj = finding.object
    identity = ([obj.api_version, obj.kind, obj.namespace, obj.name] if obj is not None
                else [finding.file])
    text = json.dumps([finding.rule, finding.environment, *identity, finding.path])
    return hashlib.sha256(text.encode()).hexdigest()


def write_sarif(report: ValidationReport, options: WriterOptions) -> str:
    findings = sorted_findings(report)
    rule_ids = sorted({f.rule for f in findings})
    results: list[dict[str, Any]] = []
    for f in findings:
        result: dict[str, Any] = {
            "ruleId": f.rule,
            "ruleIndex": rule_ids.index(f.rule),
            "level": _LEVEL[f.severity],
            "message": {"text": f.message + subject(f)},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": f.file},
                "region": {"startLine": max(f.line, 1), "startColumn": max(f.column, 1)},
            }}],
            "partialFingerprints": {FINGERPRINT: fingerprint(f)},
        }
        properties = {k: v for k, v in (("jsonPath", f.path), ("environment", f.environment)) if v}
        if properties:
            result["properties"] = properties
        results.append(result)
    sarif = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "handoff", "version": __version__,
                                "rules": [_rule(rule_doc(r, options.rules)) for r in rule_ids]}},
            "results": results,
        }],
    }
    return redact(json.dumps(sarif, indent=2)) + "\n"


def _rule(doc: RuleDoc) -> dict[str, Any]:
    rule: dict[str, Any] = {"id": doc.id, "shortDescription": {"text": doc.short},
                            "fullDescription": {"text": doc.full or doc.short}}
    if doc.help_uri:
        rule["helpUri"] = doc.help_uri
    return rule
