"""What a CI system reads back from a handoff run: GitHub step outputs, job summary and annotations,
GitLab dotenv. Pure functions from results to text; ``handoff ci`` writes the files.

GitHub limits this module respects: 10 annotations per type per step are shown (the rest are listed in
the summary instead), and the job summary must stay under 1 MiB.
"""

from __future__ import annotations

import json
import secrets
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from handoff.errors import UsageError
from handoff.redact import redact
from handoff.report.model import Finding, ObjectRef, Severity, ValidationReport

ANNOTATIONS_PER_TYPE = 10
# GitHub rejects a step summary of 1 MiB or more; stay clearly below it.
SUMMARY_BUDGET = 1024 * 1024 - 16 * 1024

_ANNOTATION_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


@dataclass(frozen=True)
class ProposeResult:
    """The fields of ``handoff propose --output json`` that CI systems pass on."""

    operation: str
    pr_number: str
    pr_url: str
    branch: str
    head_sha: str
    changed_files: tuple[str, ...]
    validation: str
    report: ValidationReport | None = None


def parse_propose_result(text: str, source: str) -> ProposeResult:
    data = _load_object(text, source)
    changed = data.get("changed_files") or ()
    if isinstance(changed, str):  # the $GITHUB_OUTPUT form: comma-separated
        changed = [f for f in changed.split(",") if f]
    if not isinstance(changed, list | tuple):
        raise UsageError("changed_files must be a list", file=source, key="changed_files")
    validation = data.get("validation")
    report_data = data.get("report")
    report = parse_report_data(report_data, source) if isinstance(report_data, Mapping) else None
    if isinstance(validation, Mapping):
        report = parse_report_data(validation, source)
        status = str(validation.get("status") or ("failed" if report.failed() else "passed"))
    else:
        status = "" if validation is None else str(validation)
    number = data.get("pr_number")
    return ProposeResult(
        operation=str(data.get("operation") or "none"),
        pr_number="" if number is None else str(number),
        pr_url=str(data.get("pr_url") or ""),
        branch=str(data.get("branch") or ""),
        head_sha=str(data.get("head_sha") or ""),
        changed_files=tuple(str(f) for f in changed),
        validation=status,
        report=report,
    )


def parse_report(text: str, source: str) -> ValidationReport:
    return parse_report_data(_load_object(text, source), source)


def parse_report_data(data: Mapping[str, Any], source: str) -> ValidationReport:
    """Rebuild a report from ``handoff validate --output json`` (the dataclass fields, snake or camel)."""
    raw = data.get("findings") or []
    if not isinstance(raw, list):
        raise UsageError("findings must be a list", file=source, key="findings")
    findings = []
    for index, item in enumerate(raw):
        if not isinstance(item, Mapping):
            raise UsageError("a finding must be an object", file=source, key=f"findings[{index}]")
        try:
            severity = Severity.parse(str(item.get("severity", "error")))
        except UsageError as e:
            raise UsageError(str(e), file=source, key=f"findings[{index}].severity") from None
        findings.append(
            Finding(
                rule=str(item.get("rule", "")),
                severity=severity,
                message=str(item.get("message", "")),
                file=str(item.get("file", "")),
                line=_int(item.get("line"), 1),
                column=_int(item.get("column"), 1),
                path=str(item.get("path") or ""),
                object=_object_ref(item.get("object")),
                engine=str(item.get("engine") or ""),
            )
        )
    return ValidationReport(findings=tuple(findings))


def github_outputs(values: Mapping[str, str]) -> str:
    """``$GITHUB_OUTPUT`` lines; every value uses a random heredoc delimiter, so no value can inject
    another output however many newlines or ``=`` it holds."""
    lines = []
    for name, value in values.items():
        delimiter = f"HANDOFF_{secrets.token_hex(8)}"
        lines.append(f"{name}<<{delimiter}\n{redact(value)}\n{delimiter}\n")
    return "".join(lines)


def propose_outputs(result: ProposeResult) -> dict[str, str]:
    return {
        "operation": result.operation,
        "pr-number": result.pr_number,
        "pr-url": result.pr_url,
        "branch": result.branch,
        "head-sha": result.head_sha,
        "changed-files": json.dumps(list(result.changed_files)),
        "validation": result.validation,
    }


def gitlab_dotenv(result: ProposeResult) -> str:
    """``artifacts:reports:dotenv`` content: one ``KEY=value`` a line, no quotes, no newlines (GitLab's
    dotenv parser accepts neither multi-line values nor escapes)."""
    values = {
        "HANDOFF_OPERATION": result.operation,
        "HANDOFF_MR_IID": result.pr_number,
        "HANDOFF_MR_URL": result.pr_url,
        "HANDOFF_BRANCH": result.branch,
        "HANDOFF_HEAD_SHA": result.head_sha,
        "HANDOFF_VALIDATION": result.validation,
    }
    return "".join(f"{key}={_one_line(redact(value))}\n" for key, value in values.items())


def junit_xml(
    report: ValidationReport | None, fail_on: Severity = Severity.ERROR, suite: str = "handoff"
) -> str:
    """JUnit XML as Jenkins' ``junit`` step and GitLab's ``artifacts:reports:junit`` read it: one test
    case per rendered object (findings at or above ``fail_on`` are its failures), one per finding that
    names no object, and a single passing case when validation was skipped."""
    findings = report.findings if report else ()
    objects = report.objects if report else ()
    cases: list[tuple[str, str, list[Finding]]] = []
    claimed: set[int] = set()
    for obj in objects:
        mine = [i for i, f in enumerate(findings) if f.object is not None and f.object == obj.object]
        claimed.update(mine)
        cases.append((str(obj.object or obj.file), obj.file, [findings[i] for i in mine]))
    for index, finding in enumerate(findings):
        if index not in claimed:
            cases.append((f"{finding.rule} {finding.file}:{finding.line}", finding.file, [finding]))
    if not cases:
        cases.append(("validation", suite, []))
    failures = sum(1 for _, _, fs in cases if any(f.severity >= fail_on for f in fs))
    root = ET.Element("testsuites")
    element = ET.SubElement(
        root, "testsuite", name=suite, tests=str(len(cases)), failures=str(failures), errors="0", skipped="0"
    )
    for name, classname, case_findings in cases:
        case = ET.SubElement(element, "testcase", name=redact(name), classname=redact(classname))
        failing = [f for f in case_findings if f.severity >= fail_on]
        if failing:
            failure = ET.SubElement(case, "failure", type=failing[0].rule, message=redact(failing[0].message))
            failure.text = redact("\n".join(
                f"{f.file}:{f.line}:{f.column}: {f.severity} {f.rule}: {f.message}" for f in failing
            ))
        others = [f for f in case_findings if f.severity < fail_on]
        if others:
            out = ET.SubElement(case, "system-out")
            out.text = redact(
                "\n".join(f"{f.file}:{f.line}: {f.severity} {f.rule}: {f.message}" for f in others)
            )
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def annotation(finding: Finding) -> str:
    """One workflow command, e.g. ``::error file=envs/dev/app.yaml,line=3,col=7,title=schema::…``."""
    level = _ANNOTATION_LEVEL[finding.severity]
    props = []
    if finding.file:
        props.append(f"file={_escape_property(finding.file)}")
        props.append(f"line={finding.line}")
        props.append(f"col={finding.column}")
    if finding.rule:
        props.append(f"title={_escape_property(finding.rule)}")
    where = f"{finding.object}: " if finding.object else ""
    at = f" (at {finding.path})" if finding.path else ""
    message = _escape_data(redact(f"{where}{finding.message}{at}"))
    return f"::{level} {','.join(props)}::{message}" if props else f"::{level}::{message}"


def capped_annotations(
    findings: Iterable[Finding], per_type: int = ANNOTATIONS_PER_TYPE
) -> tuple[list[str], list[Finding]]:
    """The annotations GitHub will show (``per_type`` per level, most severe first) and the findings
    left over, which belong in the summary so none is silently lost."""
    shown: list[str] = []
    rest: list[Finding] = []
    counts: dict[Severity, int] = {}
    for finding in sorted(findings, key=lambda f: (-f.severity, f.file, f.line, f.column)):
        if counts.get(finding.severity, 0) < per_type:
            counts[finding.severity] = counts.get(finding.severity, 0) + 1
            shown.append(annotation(finding))
        else:
            rest.append(finding)
    return shown, rest


def summary_markdown(
    result: ProposeResult | None,
    report: ValidationReport | None,
    not_annotated: Sequence[Finding] = (),
    budget: int = SUMMARY_BUDGET,
) -> str:
    """The job summary, cut to ``budget`` bytes of UTF-8 at a row boundary with a note saying how
    many rows were left out."""
    head: list[str] = ["## handoff\n"]
    if result is not None:
        head += _result_lines(result)
    if report is not None and report.findings:
        head.append(f"\n### Findings ({len(report.findings)})\n")
        if not_annotated:
            head.append(
                f"{len(not_annotated)} finding(s) are not shown as annotations (GitHub shows "
                f"{ANNOTATIONS_PER_TYPE} per type per step); every finding is listed here.\n"
            )
        head += ["| severity | rule | location | message |", "|---|---|---|---|"]
        rows = [_finding_row(f) for f in sorted(report.findings, key=lambda f: (-f.severity, f.file, f.line))]
    else:
        rows = []
    text = "\n".join(head) + "\n"
    used = len(text.encode())
    for index, row in enumerate(rows):
        line = row + "\n"
        size = len(line.encode())
        # Keep room for the closing note.
        if used + size > budget - 200:
            text += f"\n… {len(rows) - index} more finding(s) left out to keep the summary under 1 MiB.\n"
            break
        text += line
        used += size
    return redact(text)


def _result_lines(result: ProposeResult) -> list[str]:
    pr = f"[#{result.pr_number}]({result.pr_url})" if result.pr_url else (result.pr_number or "—")
    lines = [
        "| | |",
        "|---|---|",
        f"| operation | `{result.operation}` |",
        f"| pull request | {_cell(pr)} |",
        f"| branch | `{_cell(result.branch)}` |",
        f"| head | `{_cell(result.head_sha[:12])}` |",
        f"| validation | {_cell(result.validation or 'skipped')} |",
    ]
    if result.changed_files:
        lines.append("\nChanged files:\n")
        lines += [f"- `{_cell(f)}`" for f in result.changed_files]
    return lines


def _finding_row(finding: Finding) -> str:
    where = f"{finding.file}:{finding.line}" if finding.file else ""
    obj = f"{finding.object}: " if finding.object else ""
    return (
        f"| {finding.severity} | `{_cell(finding.rule)}` | {_cell(where)} | {_cell(obj + finding.message)} |"
    )


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _object_ref(value: Any) -> ObjectRef | None:
    if not isinstance(value, Mapping):
        return None
    return ObjectRef(
        api_version=str(value.get("api_version") or value.get("apiVersion") or ""),
        kind=str(value.get("kind") or ""),
        name=str(value.get("name") or ""),
        namespace=str(value.get("namespace") or ""),
    )


def _load_object(text: str, source: str) -> Mapping[str, Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise UsageError(f"not JSON: {e.msg}", file=source, line=e.lineno) from e
    if not isinstance(data, Mapping):
        raise UsageError("expected a JSON object", file=source)
    return data
