"""``handoff ci github|gitlab``: turn a ``propose``/``validate`` JSON result into what the CI system reads
(step outputs, job summary, annotations; dotenv). Used by the GitHub Action and the GitLab component."""

from __future__ import annotations

import os
from pathlib import Path

import click

from handoff.errors import UsageError
from handoff.redact import redact, register
from handoff.report import ci_outputs
from handoff.report.model import Finding, Severity, ValidationReport
from handoff.report.writers import WriterOptions
from handoff.report.writers.github import write_github

_FAIL_ON = click.Choice(["info", "warning", "error"], case_sensitive=False)


@click.group()
def ci() -> None:
    """Pass handoff results on to a CI system (used by the action and the GitLab component)."""
    # The action passes the forge token in this variable: never let it reach outputs or the summary.
    token = os.environ.get("HANDOFF_TOKEN", "")
    if token:
        register(token)


@ci.command()
@click.option("--result", "result_path", type=click.Path(dir_okay=False, path_type=Path),
              help="JSON written by `handoff propose --output json`.")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path),
              help="JSON written by `handoff validate --output json`.")
@click.option("--fail-on", default="error", type=_FAIL_ON, show_default=True)
def github(result_path: Path | None, report_path: Path | None, fail_on: str) -> int:
    """Write $GITHUB_OUTPUT and $GITHUB_STEP_SUMMARY, print annotations (10 per type, rest summarised)."""
    result = ci_outputs.parse_propose_result(_read(result_path), str(result_path)) if result_path else None
    report = ci_outputs.parse_report(_read(report_path), str(report_path)) if report_path else None
    if report is None and result is not None:
        report = result.report
    outputs: dict[str, str] = ci_outputs.propose_outputs(result) if result else {}
    if report is not None and result is None:
        outputs["validation"] = "failed" if report.failed(Severity.parse(fail_on)) else "passed"
    _, not_annotated = ci_outputs.github_annotations(report)
    if result is not None and result.error:  # also when there is no report to annotate (a usage error)
        click.echo(redact("::error title=handoff::" + result.error.replace("%", "%25")))
    if report is not None:
        # Capped annotations, then every finding as a plain log line, then the counts.
        click.echo(write_github(report, WriterOptions()), nl=False)
    _append_env_file("GITHUB_OUTPUT", ci_outputs.github_outputs(outputs))
    _append_env_file("GITHUB_STEP_SUMMARY", ci_outputs.summary_markdown(result, report, not_annotated))
    return 0


@ci.command()
@click.option("--result", "result_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="JSON written by `handoff propose --output json`.")
@click.option("--dotenv", "dotenv_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="File for `artifacts:reports:dotenv`.")
@click.option("--junit", "junit_path", type=click.Path(dir_okay=False, path_type=Path),
              help="File for `artifacts:reports:junit` (the validation of the proposed change).")
def gitlab(result_path: Path, dotenv_path: Path, junit_path: Path | None) -> int:
    """Write the dotenv report (HANDOFF_OPERATION, HANDOFF_MR_IID, HANDOFF_MR_URL, …) and JUnit."""
    result = ci_outputs.parse_propose_result(_read(result_path), str(result_path))
    _write_atomic(dotenv_path, ci_outputs.gitlab_dotenv(result))
    if junit_path is not None:
        report = result.report
        if report is None and result.error:  # e.g. a usage error: the MR's test report shows it as a failure
            cause = Finding("handoff-error", Severity.ERROR, result.error, "", 1)
            report = ValidationReport(findings=(cause,))
        _write_atomic(junit_path, ci_outputs.junit_xml(report, "handoff propose"))
    return 0


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as e:
        raise UsageError(f"cannot read: {e.strerror}", file=str(path)) from e


def _append_env_file(variable: str, text: str) -> None:
    target = os.environ.get(variable)
    if not target or not text:
        return
    with Path(target).open("a", encoding="utf-8") as fh:
        fh.write(text)


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)

