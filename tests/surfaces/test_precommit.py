"""The pre-commit hook, installed and run by pre-commit itself from this checkout (`try-repo`)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from .configrepo import GIT_ENV
from .paths import REPO, packaging_gaps

VALID = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\ndata: {a: b}\n"
INVALID = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {replicas: three}\n"


def _pre_commit() -> str:
    found = shutil.which("pre-commit", path=str(Path(sys.executable).parent))
    if found is None:
        pytest.fail("pre-commit is a dev dependency: pip install pre-commit")
    return found


def test_hook_installs_the_schemas_extra() -> None:
    hooks = YAML(typ="safe").load((REPO / ".pre-commit-hooks.yaml").read_text())
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert hooks[0]["additional_dependencies"] == extras["schemas"]


@pytest.mark.slow
@pytest.mark.xfail(bool(packaging_gaps()), strict=True, reason="; ".join(packaging_gaps()))
def test_try_repo_runs_handoff_validate_on_a_config_repo(tmp_path: Path) -> None:
    repo = tmp_path / "config"
    (repo / "manifests").mkdir(parents=True)
    (repo / "manifests" / "web.yaml").write_text(INVALID)
    env = {**os.environ, **GIT_ENV, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"), "HOME": str(tmp_path)}
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, check=True, env=env)
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True, env=env)

    def try_repo() -> subprocess.CompletedProcess[str]:
        return subprocess.run([_pre_commit(), "try-repo", str(REPO), "handoff-validate", "--all-files"],
                              cwd=repo, env=env, capture_output=True, text=True, check=False, timeout=900)

    failed = try_repo()
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "handoff validate" in failed.stdout and "Failed" in failed.stdout
    assert "manifests/web.yaml" in failed.stdout and "replicas" in failed.stdout

    (repo / "manifests" / "web.yaml").write_text(VALID)
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True, env=env)
    passed = try_repo()
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "Passed" in passed.stdout
