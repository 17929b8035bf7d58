"""Machine-readable JSON: summary counts, every object verdict, finding and waiver."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from handoff.redact import redact
from handoff.report.model import ObjectRef, ValidationReport
from handoff.report.writers.base import WriterOptions, sorted_findings


def _ref(ref: ObjectRef | None) -> dict[str, str] | None:
    if ref is None:
        return None
    return {"apiVersion": ref.api_version, "kind": ref.kind, "namespace": ref.namespace, "name": ref.name}


def write_json(report: ValidationReport, options: WriterOptions) -> str:
    counts = {s: sum(1 for o in report.objects if o.status == s) for s in ("valid", "invalid", "skipped")}
    data: dict[str, Any] = {
        "summary": {"text": report.summary(), "objects": len(report.objects),
                    "files": len({o.file for o in report.objects}), **counts,
                    "findings": len(report.findings)},
        "objects": [{**asdict(o), "object": _ref(o.object)} for o in report.objects],
        "findings": [{**asdict(f), "severity": str(f.severity), "object": _ref(f.object)}
                     for f in sorted_findings(report)],
        "waivers": [{**asdict(w), "object": _ref(w.object)} for w in report.waivers],
    }
    return redact(json.dumps(data, indent=2)) + "\n"
