"""``handoff plan --env E``: what an environment renders to and what the checks say, for people; the
same plan (``handoff.workflows.plan``) the PR check and the reconciler run."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import click

from handoff.cli.render_options import render_options
from handoff.cli.validate import report_exit_code
from handoff.config import load_config
from handoff.errors import ConfigError
from handoff.report.model import Finding
from handoff.report.writers import WRITERS, WriterOptions
from handoff.workflows.plan import Plan, plan_env

FORMATS = ("text", "json", "markdown")


def _finding_line(finding: Finding) -> str:
    where = f"{finding.file}:{finding.line}:{finding.column}"
    return f"      {finding.severity!s:<7}  {finding.rule}  {where}  {finding.message}"


def plan_text(plan: Plan) -> str:
    lines = [f"plan for {plan.env}" + (f" at {plan.revision}" if plan.revision else "")]
    # the report model places each finding on its object (ValidationReport.cases), as every writer does
    cases = plan.report.cases()
    for case in cases:
        if case.result is not None:
            lines.append(f"  {case.object}  {case.file}:{case.result.line}  {case.status}")
            lines += [_finding_line(f) for f in case.findings]
    rest = [f for case in cases if case.result is None for f in case.findings]
    if rest:
        lines.append("  not about one object:")
        lines += [_finding_line(f) for f in rest]
    lines.append(plan.report.summary())
    return "\n".join(lines) + "\n"


def plan_json(plan: Plan) -> str:
    data = {
        "env": plan.env,
        "revision": plan.revision,
        "objects": [{"apiVersion": o.ref.api_version, "kind": o.ref.kind, "namespace": o.ref.namespace,
                     "name": o.ref.name, "file": o.file, "line": o.line} for o in plan.objects],
        "report": json.loads(WRITERS["json"](plan.report, WriterOptions())),
        "summary": plan.report.summary(),
    }
    return json.dumps(data, indent=2) + "\n"


def plan_markdown(plan: Plan) -> str:
    lines = [f"### Plan for `{plan.env}`", "", "| object | file | findings |", "|---|---|---|"]
    lines += [f"| `{case.object}` | {case.file}:{case.result.line} | {len(case.findings)} |"
              for case in plan.report.cases() if case.result is not None]
    return "\n".join(lines) + "\n\n" + WRITERS["markdown"](plan.report, WriterOptions())


RENDERERS = {"text": plan_text, "json": plan_json, "markdown": plan_markdown}


@click.command("plan")  # registered in handoff.cli.COMMANDS as "plan"
@click.option("--env", required=True, help="The environment of .handoff.yaml to plan.")
@click.option("--config-repo", type=click.Path(exists=True, file_okay=False, path_type=Path), default=".",
              show_default=True, help="The config repo checkout.")
@click.option("--output", "output_format", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("--fail-on", type=click.Choice(["error", "warning", "info"]), default="error",
              show_default=True, help="Exit 1 when a finding has at least this severity.")
@render_options
def plan(env: str, config_repo: Path, output_format: str, fail_on: str) -> int:
    """Render ENV, check it against the schemas and the policies exactly as the PR check and the
    reconciler do, and show each object with its findings."""
    config = load_config(config_repo)
    if config is None:
        raise ConfigError(f"handoff plan needs a .handoff.yaml in {config_repo}")
    result = plan_env(config_repo, config, env)
    click.echo(RENDERERS[output_format](result), nl=False)
    return report_exit_code(result.report, fail_on)


__all__: Sequence[str] = ["plan", "plan_json", "plan_markdown", "plan_text"]
