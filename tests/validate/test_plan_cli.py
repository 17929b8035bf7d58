"""`handoff plan --env E`: each rendered object with its findings and the summary, for people; exit 1
on findings at or above --fail-on, like validate. It is the plan validate and the reconciler run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from handoff.cli import main
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
