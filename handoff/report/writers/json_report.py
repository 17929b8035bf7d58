"""Machine-readable JSON: summary counts, every object verdict, finding, waiver and environment.

The shape is ``ValidationReport.to_data``; ``ValidationReport.from_json`` reads it back (CI outputs do).
"""

from __future__ import annotations

import json

from handoff.redact import redact
from handoff.report.model import ValidationReport
from handoff.report.writers.base import WriterOptions

_PRETTY_UP_TO = 2_000


def write_json(report: ValidationReport, options: WriterOptions) -> str:
    # the C encoder only runs without indent: big reports stay compact so CI does not wait on them
    indent = 2 if len(report.objects) + len(report.findings) <= _PRETTY_UP_TO else None
    # params come from YAML: a date there is written as its text rather than failing the run
    return redact(json.dumps(report.to_data(), indent=indent, default=str)) + "\n"
