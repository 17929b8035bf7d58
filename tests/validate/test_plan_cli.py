"""`handoff plan --env E`: each rendered object with its findings and the summary, for people; exit 1
on findings at or above --fail-on, like validate. It is the plan validate and the reconciler run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from handoff.cli import main
from handoff.cli.plan import plan_markdown, plan_text
from handoff.manifests.model import RenderResult
from handoff.report.model import Finding, ObjectRef, ObjectResult, Severity, ValidationReport
from handoff.workflows.plan import Plan
from tests.harness.tools import require_tool

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "config-repo"


def plan(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["plan", "--config-repo", str(EXAMPLE), *argv])
    return code, capsys.readouterr().out


def test_text_lists_each_object_with_its_findings(capsys: pytest.CaptureFixture[str]) -> None:
    require_tool("kustomize")
    code, out = plan(capsys, "--env", "prod")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "plan for prod"
    assert "  CronJob/web-prod/web-cleanup  apps/worker/cronjob.yaml:7  valid" in lines
    assert any(line.startswith("      warning  image-pull-policy  apps/worker/cronjob.yaml:20:15  ")
               for line in lines)
    assert lines[-1] == "2 objects in 1 file: 2 valid, 0 invalid, 0 skipped"


def test_fail_on_and_the_validate_report_agree(capsys: pytest.CaptureFixture[str]) -> None:
    require_tool("kustomize")
    code, out = plan(capsys, "--env", "dev", "--output", "json", "--fail-on", "warning")
    assert code == 1
    data = json.loads(out)
    assert data["env"] == "dev"
    assert {(o["kind"], o["namespace"], o["name"]) for o in data["objects"]} == {
        ("ServiceAccount", "web-dev", "web-cleanup"), ("CronJob", "web-dev", "web-cleanup")}
    capsys.readouterr()
    main(["validate", "--config-repo", str(EXAMPLE), "--env", "dev", "--output", "json"])
    assert data["report"] == json.loads(capsys.readouterr().out)


def test_markdown_has_an_objects_table_and_the_findings(capsys: pytest.CaptureFixture[str]) -> None:
    require_tool("kustomize")
    code, out = plan(capsys, "--env", "prod", "--output", "markdown")
    assert code == 0
    assert "| `CronJob/web-prod/web-cleanup` | apps/worker/cronjob.yaml:7 | 7 |" in out
    assert "image-pull-policy" in out


def test_plan_needs_a_config_and_a_known_env(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--config-repo", str(tmp_path), "--env", "dev"]) == 2
    assert ".handoff.yaml" in capsys.readouterr().err
    assert main(["plan", "--config-repo", str(EXAMPLE), "--env", "nope"]) == 2
    assert "unknown environment 'nope'" in capsys.readouterr().err


def test_findings_are_placed_on_objects_by_the_report_model() -> None:
    """The same object rendered from two files, a policy finding on the Helm values file that set it
    and a finding on an object nobody rendered: each shows once, where ``ValidationReport.cases`` puts
    it, and the status line counts the policy error."""
    web = ObjectRef("apps/v1", "Deployment", "web", "shop")
    ghost = ObjectRef("v1", "ConfigMap", "ghost", "shop")
    report = ValidationReport(
        objects=(ObjectResult(web, "templates/a.yaml", 1, "valid"), ObjectResult(web, "templates/b.yaml", 1, "valid")),
        findings=(Finding("disallow-latest-tag", Severity.ERROR, "latest", "values.yaml", 4, 7, object=web),
                  Finding("schema", Severity.ERROR, "gone", "templates/c.yaml", 2, 1, object=ghost)))
    text = plan_text(Plan("prod", "", RenderResult(), report))
    assert text.count("disallow-latest-tag") == 1 and text.count("gone") == 1
    lines = text.splitlines()
    first = lines.index("  Deployment/shop/web  templates/a.yaml:1  invalid")
    assert "disallow-latest-tag  values.yaml:4:7" in lines[first + 1]
    assert "  Deployment/shop/web  templates/b.yaml:1  valid" in lines
    assert lines[lines.index("  not about one object:") + 1].endswith("templates/c.yaml:2:1  gone")
    assert "| `Deployment/shop/web` | templates/a.yaml:1 | 1 |" in plan_markdown(Plan("prod", "", RenderResult(), report))
