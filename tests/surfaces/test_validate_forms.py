"""Every CI surface validates a config repo the way its pull-request check does: the exact validate
invocation the Action, the GitLab component, the Jenkins step and the pre-commit hook ship, run on the
example config repo (two environments), finds what ``handoff validate --env E`` finds for each E."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from handoff.report import ci_outputs
from handoff.report.model import ValidationReport
from tests.harness.tools import require_tool

from .gha import run_action
from .gitlab import include_component, run_job
from .paths import REPO
from .test_action import action_checkout, runner_env, runner_temp  # noqa: F401 (fixtures)
from .test_gitlab import COMPONENT, jenkins_script

EXAMPLE = REPO / "examples" / "config-repo"
ENVS = ("dev", "prod")
# The environment-specific part of the PR check: prod requires digests (its params), dev does not.
PROD_PARAMS = "    params: {require-image-digest: {enabled: true}}\n"


def _example(parent: Path, *, prod_params: bool = False) -> Path:
    repo = parent / "config"
    shutil.copytree(EXAMPLE, repo)
    if prod_params:
        config = (repo / ".handoff.yaml").read_text()
        prod = "  prod: {render: {type: kustomize, path: envs/prod}}\n"
        assert prod in config
        config = config.replace(prod, "  prod:\n    render: {type: kustomize, path: envs/prod}\n" + PROD_PARAMS)
        (repo / ".handoff.yaml").write_text(config)
    return repo


def _tools_env() -> dict[str, str]:
    return {"HANDOFF_TOOLS_DIR": str(require_tool("kustomize").parent)}


def _handoff(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "handoff", *args], cwd=cwd, capture_output=True, text=True,
                          check=False, env={**_base_env(cwd), **_tools_env()}, timeout=600)


def _base_env(home: Path) -> dict[str, str]:
    return {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8"}


def _per_env_reports(repo: Path) -> list[ValidationReport]:
    reports = []
    for env in ENVS:
        proc = _handoff("validate", "--env", env, "--output", "json", cwd=repo)
        assert proc.returncode in (0, 1), proc.stderr
        reports.append(ci_outputs.parse_report(proc.stdout, f"--env {env}"))
    return reports


def _junit_findings(xml_text: str) -> Counter[tuple[str, str]]:
    """(object, finding line) for every finding in a JUnit report, failures and warnings alike."""
    found: Counter[tuple[str, str]] = Counter()
    for case in ET.fromstring(xml_text).iter("testcase"):
        texts = [el.text or "" for el in case if el.tag in ("failure", "error", "system-out")]
        for text in texts:
            for line in text.splitlines():
                if line.strip():
                    found[(case.get("name", ""), line.strip())] += 1
    return found


def _expected_junit(repo: Path) -> Counter[tuple[str, str]]:
    expected: Counter[tuple[str, str]] = Counter()
    for env in ENVS:
        proc = _handoff("validate", "--env", env, "--output", "junit", cwd=repo)
        assert proc.returncode in (0, 1), proc.stderr
        expected += _junit_findings(proc.stdout)
    return expected


def _summary_rows(summary: str) -> list[str]:
    """The findings table's rows (its header names an environment column when there are several)."""
    lines = summary.splitlines()
    header = next((i for i, line in enumerate(lines) if line.startswith("| severity |")), None)
    return [] if header is None else sorted(line for line in lines[header + 2:] if line.startswith("| "))


def _surface_runs() -> list[Any]:
    return [pytest.param(False, id="example"), pytest.param(True, id="prod-params")]


@pytest.mark.parametrize("prod_params", _surface_runs())
def test_action_validate_matches_each_env(prod_params: bool, action_checkout: Path,  # noqa: F811
                                          runner_env: dict[str, str], runner_temp: Path,  # noqa: F811
                                          tmp_path: Path) -> None:
    repo = _example(tmp_path, prod_params=prod_params)
    dev, prod = _per_env_reports(repo)
    expected = ci_outputs.summary_markdown(None, dev.merge(prod))
    # the config repo is the workspace checkout, as on a config repo's own pull request (path: .)
    run = run_action(action_checkout, {"command": "validate"}, workspace=repo, runner_temp=runner_temp,
                     base_env={**runner_env, **_tools_env()})
    assert run.step("run").returncode in (0, 1), run.log()
    assert _summary_rows(expected), "the example should have findings to compare"
    assert _summary_rows(run.summary) == _summary_rows(expected)


@pytest.mark.parametrize("prod_params", _surface_runs())
def test_gitlab_component_validate_matches_each_env(prod_params: bool, tmp_path: Path) -> None:
    repo = _example(tmp_path, prod_params=prod_params)
    jobs = include_component(COMPONENT, {"command": "validate"})
    proc = run_job(next(iter(jobs.values())), repo, {**_base_env(tmp_path), **_tools_env()})
    assert proc.returncode in (0, 1), proc.stderr
    assert _junit_findings((repo / "handoff-junit.xml").read_text()) == _expected_junit(repo)


@pytest.mark.parametrize("prod_params", _surface_runs())
def test_jenkins_validate_matches_each_env(prod_params: bool, tmp_path: Path) -> None:
    repo = _example(tmp_path, prod_params=prod_params)
    env = {**_base_env(tmp_path), **_tools_env(), "HANDOFF_COMMAND": "validate", "HANDOFF_PATH": ".",
           "HANDOFF_FAIL_ON": "error"}
    proc = subprocess.run(["sh", "-xe", "-c", jenkins_script()], cwd=repo, env=env, capture_output=True,
                          text=True, check=False, timeout=600)
    assert proc.returncode in (0, 1), proc.stderr
    assert _junit_findings((repo / "handoff-junit.xml").read_text()) == _expected_junit(repo)


@pytest.mark.parametrize("prod_params", _surface_runs())
def test_precommit_hook_entry_matches_each_env(prod_params: bool, tmp_path: Path) -> None:
    """The hook's entry as pre-commit runs it (no file names: pass_filenames is false, in the repo root),
    with only an output format added so the findings can be compared."""
    hook = YAML(typ="safe").load((REPO / ".pre-commit-hooks.yaml").read_text())[0]
    assert hook["pass_filenames"] is False
    argv = shlex.split(hook["entry"])
    assert argv == ["handoff", "validate"]
    repo = _example(tmp_path, prod_params=prod_params)
    proc = _handoff(*argv[1:], "--output", "junit", cwd=repo)
    assert proc.returncode in (0, 1), proc.stderr
    assert _junit_findings(proc.stdout) == _expected_junit(repo)
