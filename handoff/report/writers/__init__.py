"""Writers turn a ValidationReport into one text format each; the registry maps ``--output`` names."""

from __future__ import annotations

from handoff.report.writers.base import Writer, WriterOptions
from handoff.report.writers.github import annotation, annotation_lines, write_github
from handoff.report.writers.json_report import write_json
from handoff.report.writers.junit import write_junit
from handoff.report.writers.markdown import write_markdown
from handoff.report.writers.sarif import write_sarif
from handoff.report.writers.text import write_text

WRITERS: dict[str, Writer] = {
    "text": write_text,
    "json": write_json,
    "junit": write_junit,
    "sarif": write_sarif,
    "github": write_github,
    "markdown": write_markdown,
}

__all__ = ["WRITERS", "Writer", "WriterOptions", "annotation", "annotation_lines"]
