"""Machine-readable JSON: summary counts, every object verdict, finding and waiver."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from handoff.redact import redact
from handoff.report.model import ObjectRef, ValidationReport
from handoff.report.writers.base import WriterOptions, sorted_findings

_PRETTY_UP_TO = 2_000


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
        "objects": [{"object": _ref(o.object), "file": o.file, "line": o.line, "status": o.status,
                     "reason": o.reason} for o in report.objects],
        "findings": [{"rule": f.rule, "severity": str(f.severity), "message": f.message, "file": f.file,
                      "line": f.line, "column": f.column, "path": f.path, "object": _ref(f.object),
                      "engine": f.engine} for f in sorted_findings(report)],
        "waivers": [{**asdict(w), "object": _ref(w.object)} for w in report.waivers],
    }
    # the C encoder only runs without indent: big reports stay compact so CI does not wait on them
    indent = 2 if len(report.objects) + len(report.findings) <= _PRETTY_UP_TO else None
    return redact(json.dumps(data, indent=indent)) + "\n"
