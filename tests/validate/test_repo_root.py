"""One meaning for validate: in a repo with .handoff.yaml, `handoff validate`, `handoff validate .`
and `handoff validate REPO` all check every environment's render with that environment's params (or
only `--env`); the repo's files on their own are checked only with `--plain` (or without a config)."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from handoff.cli import main
from tests.harness.tools import require_tool

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "config-repo"
DEPLOY = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: %s}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: web
          image: ghcr.io/acme/web:1.4.2
"""
CONFIG = """\
environments:
  dev: {render: {type: plain, path: envs/dev}}
  prod:
    render: {type: plain, path: envs/prod}
    params: {require-image-digest: {enabled: true}}
"""


@pytest.fixture
def in_dir(tmp_path: Path) -> Iterator[Path]:
    before = Path.cwd()
    try:
        yield tmp_path
    finally:
        os.chdir(before)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["validate", "--output", "json", *argv])
    return code, capsys.readouterr().out


def rules(out: str) -> list[tuple[str, str]]:
    return [(f["rule"], f["file"]) for f in json.loads(out)["findings"]]


def test_validate_dot_is_validate_on_the_example_repo(in_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    require_tool("kustomize")
    repo = in_dir / "repo"
    shutil.copytree(EXAMPLE, repo)
    os.chdir(repo)
    bare = run(capsys)
    dot = run(capsys, ".")
    assert dot == bare
    assert bare[0] == 0
    assert not any(rule.startswith("schema") or rule == "yaml" for rule, _ in rules(bare[1]))
    os.chdir(in_dir)
    assert run(capsys, "repo") == bare  # the repo root from outside it: the same, names relative to it


def test_plain_checks_the_files_on_their_own(in_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """What `handoff validate .` used to do, now only on request."""
    repo = in_dir / "repo"
    shutil.copytree(EXAMPLE, repo)
    os.chdir(repo)
    for argv in (("--plain",), ("--plain", ".")):
        code, out = run(capsys, *argv)
        assert code == 1
        assert ("schema/missing", "envs/prod/kustomization.yaml") in rules(out)


def test_whole_repo_validate_applies_each_environments_params(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    """prod's require-image-digest is enforced by the plain `handoff validate` too, as in the PR check."""
    (tmp_path / "envs/dev").mkdir(parents=True)
    (tmp_path / "envs/prod").mkdir(parents=True)
    (tmp_path / ".handoff.yaml").write_text(CONFIG)
    (tmp_path / "envs/dev/web.yaml").write_text(DEPLOY % "dev")
    (tmp_path / "envs/prod/web.yaml").write_text(DEPLOY % "prod")
    code, out = run(capsys, "--config-repo", str(tmp_path))
    assert code == 1
    digest = [f for f in rules(out) if f[0] == "require-image-digest"]
    assert digest == [("require-image-digest", "envs/prod/web.yaml")]
    assert run(capsys, "--config-repo", str(tmp_path), str(tmp_path)) == (code, out)
    code, dev = run(capsys, "--config-repo", str(tmp_path), "--env", "dev")
    assert code == 0 and not [f for f in rules(dev) if f[0] == "require-image-digest"]
    # --env with the repo root is the same as --env alone
    assert run(capsys, "--config-repo", str(tmp_path), "--env", "dev", str(tmp_path)) == (code, dev)


def test_a_path_below_the_root_is_validated_as_given(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "envs/prod").mkdir(parents=True)
    (tmp_path / ".handoff.yaml").write_text(CONFIG.replace("  dev: {render: {type: plain, path: envs/dev}}\n", ""))
    (tmp_path / "envs/prod/web.yaml").write_text(DEPLOY % "prod")
    code, out = run(capsys, "--config-repo", str(tmp_path), str(tmp_path / "envs/prod"))
    assert code == 0  # no environment: prod's params do not apply to a path on its own
    assert "require-image-digest" not in {rule for rule, _ in rules(out)}


def test_without_a_config_the_repo_is_plain_manifests(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "web.yaml").write_text(DEPLOY % "dev")
    assert run(capsys, "--config-repo", str(tmp_path)) == run(capsys, "--config-repo", str(tmp_path), "--plain")


def test_plain_and_env_together_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / ".handoff.yaml").write_text(CONFIG)
    assert main(["validate", "--config-repo", str(tmp_path), "--plain", "--env", "dev"]) == 2
    assert "not both" in capsys.readouterr().err


def test_an_expired_config_waiver_is_reported_once_for_all_environments(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "envs/dev").mkdir(parents=True)
    (tmp_path / "envs/prod").mkdir(parents=True)
    waiver = ("waivers:\n  - policy: require-probes\n    match: {kind: Deployment, name: web}\n"
              "    reason: legacy app\n    expires: 2020-01-01\n")
    (tmp_path / ".handoff.yaml").write_text(CONFIG + waiver)
    (tmp_path / "envs/dev/web.yaml").write_text(DEPLOY % "dev")
    (tmp_path / "envs/prod/web.yaml").write_text(DEPLOY % "prod")
    _, out = run(capsys, "--config-repo", str(tmp_path))
    assert [rule for rule, _ in rules(out)].count("waiver-expired") == 1
    assert [w for w in json.loads(out)["waivers"] if w["expired"]] == \
        [w for w in json.loads(run(capsys, "--config-repo", str(tmp_path), "--env", "dev")[1])["waivers"]
         if w["expired"]]
