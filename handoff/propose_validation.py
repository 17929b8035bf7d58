"""The default validation step of propose/promote: render the environment, schema-check it and run
the config's policies (built-in pack, policy dirs, env params, waivers), with the same library the
``validate`` command and the reconciler use."""

from __future__ import annotations

from pathlib import Path

from handoff.config import Config
from handoff.errors import HandoffError
from handoff.policy.runner import PolicyCheck, options_from_config
from handoff.propose import Validation
from handoff.render import render_env
from handoff.report.model import ValidationReport
from handoff.validate import SchemaOptions, validate

MAX_FINDINGS_IN_BODY = 50


def validate_env(repo: Path, config: Config, env: str) -> Validation:
    try:
        policies = PolicyCheck(options_from_config(config, repo, env=env))
        report = validate(render_env(repo, config, env),
                          schema_options=SchemaOptions(kubernetes_version=config.kubernetes_version),
                          extra_checks=[policies])
    except HandoffError as e:
        return Validation("failed", None, f"Validation could not run: `{e}`")
    if report.failed():
        return Validation("failed", report, markdown(report, "failed"))
    return Validation("passed", report, markdown(report, "passed"))


def markdown(report: ValidationReport, status: str) -> str:
    lines = [f"**{status}**: {report.summary()}", ""]
    if report.findings:
        lines += ["| severity | rule | where | message |", "|---|---|---|---|"]
        for finding in report.findings[:MAX_FINDINGS_IN_BODY]:
            message = finding.message.replace("|", "\\|").replace("\n", " ")
            where = f"{finding.file}:{finding.line}"
            lines.append(f"| {finding.severity} | {finding.rule} | {where} | {message} |")
        if len(report.findings) > MAX_FINDINGS_IN_BODY:
            lines.append(f"\n…and {len(report.findings) - MAX_FINDINGS_IN_BODY} more findings.")
    return "\n".join(lines)
