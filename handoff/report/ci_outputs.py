"""What a CI system reads back from a handoff run: GitHub step outputs, job summary and annotations,
GitLab dotenv. Pure functions from results to text; ``handoff ci`` writes the files.

GitHub limits this module respects: 10 annotations per type per step are shown (the rest are listed in
the summary instead), and the job summary must stay under 1 MiB.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping

from handoff.redact import redact
from handoff.report.model import Severity, ValidationReport
from handoff.report.proposal import ProposeResult
from handoff.report.writers import WriterOptions, annotation_lines
from handoff.report.writers.base import sorted_findings
from handoff.report.writers.junit import write_junit
from handoff.report.writers.markdown import cell, findings_table, waiver_lines

ANNOTATIONS_PER_TYPE = 10
# GitHub rejects a step summary of 1 MiB or more; stay clearly below it.
SUMMARY_BUDGET = 1024 * 1024 - 16 * 1024


def parse_propose_result(text: str, source: str) -> ProposeResult:
    """``handoff propose --output json``, read back through the model the workflow built."""
    return ProposeResult.from_json(text, source)


def parse_report(text: str, source: str) -> ValidationReport:
    """``handoff validate --output json``, read back through the model that wrote it."""
    return ValidationReport.from_json(text, source)


def github_outputs(values: Mapping[str, str]) -> str:
    """``$GITHUB_OUTPUT`` lines; every value uses a random heredoc delimiter, so no value can inject
    another output however many newlines or ``=`` it holds."""
    lines = []
    for name, value in values.items():
        delimiter = f"HANDOFF_{secrets.token_hex(8)}"
        lines.append(f"{name}<<{delimiter}\n{redact(value)}\n{delimiter}\n")
    return "".join(lines)


def propose_outputs(result: ProposeResult) -> dict[str, str]:
    """The Action's step outputs: ``ProposeResult.outputs`` under the Action's names (``pr-number``),
    with ``changed-files`` as a JSON list and the ``error``."""
    outputs = {name.replace("_", "-"): value for name, value in result.outputs().items()}
    return {**outputs, "changed-files": json.dumps(list(result.changed_files)), "error": result.error}


def gitlab_dotenv(result: ProposeResult) -> str:
    """``artifacts:reports:dotenv`` content: one ``KEY=value`` a line, no quotes, no newlines (GitLab's
    dotenv parser accepts neither multi-line values nor escapes)."""
    values = {
        "HANDOFF_OPERATION": result.operation,
        "HANDOFF_MR_IID": "" if result.pr_number is None else str(result.pr_number),
        "HANDOFF_MR_URL": result.pr_url,
        "HANDOFF_BRANCH": result.branch,
        "HANDOFF_HEAD_SHA": result.head_sha,
        "HANDOFF_VALIDATION": result.validation,
        "HANDOFF_ERROR": result.error,
    }
    return "".join(f"{key}={_one_line(redact(value))}\n" for key, value in values.items())


def junit_xml(report: ValidationReport | None, title: str = "handoff") -> str:
    """JUnit for ``artifacts:reports:junit`` / Jenkins ``junit``: the report writer's, also when
    validation was skipped (an empty but valid suite)."""
    return write_junit(report or ValidationReport(), WriterOptions(title=title))


def github_annotations(report: ValidationReport | None) -> tuple[list[str], int]:
    """The annotations GitHub will show (the report writer's, capped per type, plus one notice counting
    the rest) and how many findings got no annotation of their own, for the summary."""
    if report is None:
        return [], 0
    findings = sorted_findings(report)
    lines = annotation_lines(findings, ANNOTATIONS_PER_TYPE)
    counts: dict[Severity, int] = {}
    for f in findings:
        counts[f.severity] = counts.get(f.severity, 0) + 1
    return lines, sum(max(0, n - ANNOTATIONS_PER_TYPE) for n in counts.values())


def summary_markdown(
    result: ProposeResult | None,
    report: ValidationReport | None,
    not_annotated: int = 0,
    budget: int = SUMMARY_BUDGET,
) -> str:
    """The job summary, cut to ``budget`` bytes of UTF-8 at a row boundary with a note saying how
    many rows were left out."""
    head: list[str] = ["## handoff\n"]
    if result is not None:
        head += _result_lines(result)
    if report is not None:
        head.append(f"\n**{report.summary()}**\n")
    if report is not None and report.findings:
        head.append(f"\n### Findings ({len(report.findings)})\n")
        if not_annotated:
            head.append(
                f"{not_annotated} finding(s) are not shown as annotations (GitHub shows "
                f"{ANNOTATIONS_PER_TYPE} per type per step); every finding is listed here.\n"
            )
    if report is not None and report.waivers:
        head += ["", *waiver_lines(report.waivers)]
    text = "\n".join(head) + "\n"
    if report is not None:
        rows = findings_table(report.findings, max_bytes=budget - len(text.encode()),
                              left_out="left out to keep the summary under 1 MiB")
        text += "".join(f"{row}\n" for row in rows)
    return redact(text)


def _result_lines(result: ProposeResult) -> list[str]:
    number = "" if result.pr_number is None else str(result.pr_number)
    pr = f"[#{number}]({result.pr_url})" if result.pr_url else (number or "—")
    lines = [
        "| | |",
        "|---|---|",
        f"| operation | `{result.operation}` |",
        f"| pull request | {cell(pr)} |",
        f"| branch | `{cell(result.branch)}` |",
        f"| head | `{cell(result.head_sha[:12])}` |",
        f"| validation | {cell(result.validation or 'skipped')} |",
    ]
    if result.error:
        lines.append(f"| error | {cell(result.error)} |")
    if result.changed_files:
        lines.append("\nChanged files:\n")
        lines += [f"- `{cell(f)}`" for f in result.changed_files]
    return lines


def _one_line(text: str) -> str:
    return " ".join(text.split())
