"""The default validation step of propose/promote: render the environment, schema-check it and run
the config's policies (built-in pack, policy dirs, env params, waivers), with the same library the
``validate`` command and the reconciler use."""

from __future__ import annotations

import difflib
from pathlib import Path

import yaml

from handoff.config import Config
from handoff.errors import HandoffError
from handoff.manifests.model import RenderedObject
from handoff.policy.runner import PolicyCheck, options_from_config
from handoff.render import render_env
from handoff.report.model import Finding, Severity, ValidationReport
from handoff.validate import SchemaOptions, validate
from handoff.workflows.propose import Validation

MAX_FINDINGS_IN_BODY = 50
# GitHub caps a PR body at 65,536 characters; the rendered diff gets at most this share of it.
MAX_RENDERED_DIFF_CHARS = 30_000


def validate_env(repo: Path, config: Config, env: str) -> Validation:
    try:
        policies = PolicyCheck(options_from_config(config, repo, env=env))
        rendered = render_env(repo, config, env)
        report = validate(rendered,
                          schema_options=SchemaOptions(kubernetes_version=config.kubernetes_version),
                          extra_checks=[policies])
    except HandoffError as e:
        # the cause travels as a finding too, so CI annotations, JUnit and the JSON report carry it
        cause = Finding("could-not-validate", Severity.ERROR, str(e), e.file or "", e.line or 1)
        return Validation("failed", ValidationReport(findings=(cause,)), f"Validation could not run: `{e}`",
                          error=str(e))
    text = canonical_yaml(rendered.objects)
    if report.failed():
        return Validation("failed", report, markdown(report, "failed"), rendered=text)
    return Validation("passed", report, markdown(report, "passed"), rendered=text)


def rendered_text(repo: Path, config: Config, env: str) -> str:
    """What ``env`` renders to, as canonical YAML ("" when it cannot be rendered)."""
    try:
        return canonical_yaml(render_env(repo, config, env).objects)
    except HandoffError:
        return ""


def canonical_yaml(objects: tuple[RenderedObject, ...]) -> str:
    """Objects sorted by kind/namespace/name with sorted keys, so a diff shows only real changes."""
    ordered = sorted(objects, key=lambda o: (o.ref.kind, o.ref.namespace, o.ref.name, o.ref.api_version))
    return "".join(
        f"---\n# {o.ref} ({o.file})\n" + yaml.safe_dump(dict(o.obj), sort_keys=True, default_flow_style=False)
        for o in ordered
    )


def rendered_diff(before: str, after: str, env: str) -> str:
    """The rendered-manifest change as a markdown section body."""
    if before == after:
        return "_The rendered manifests do not change._"
    lines = difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True),
                                 fromfile=f"a/{env} (base)", tofile=f"b/{env} (proposed)")
    text = "".join(lines)
    if len(text) > MAX_RENDERED_DIFF_CHARS:
        text = text[:MAX_RENDERED_DIFF_CHARS].rsplit("\n", 1)[0] + "\n… (rendered diff truncated)\n"
    return f"```diff\n{text.rstrip()}\n```"


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
