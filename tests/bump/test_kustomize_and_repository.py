"""Kustomize `images:` edited as kustomize applies it; repositories never change by accident;
promote-only environments change only by promotion. Inputs written fresh, in the layouts of public
kustomize overlays (several entries per name, `newName` carrying a whole reference)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from handoff.cli import main
from handoff.edit.bump import bump
from handoff.errors import EditError, UsageError
from tests.bump.helpers import make_repo, snapshot
from tests.harness.tools import require_tool

CONFIG = """apps:
  web:
    image: ghcr.io/acme/web
    targets:
      - {type: kustomize, path: kustomization.yaml, name: ghcr.io/acme/web}
"""
DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: ghcr.io/acme/web:0.9}]
"""


def test_every_entry_of_a_duplicated_name_is_edited(tmp_path: Path) -> None:
    kustomization = ("resources: [deploy.yaml]\nimages:\n- name: ghcr.io/acme/web\n  newTag: \"1.0\"\n"
                     "- name: other\n  newTag: \"3\"\n- name: ghcr.io/acme/web\n  newTag: \"1.0-rc\"\n")
    repo = make_repo(tmp_path, {".handoff.yaml": CONFIG, "kustomization.yaml": kustomization,
                                "deploy.yaml": DEPLOYMENT})
    bump(repo, "ghcr.io/acme/web:1.1", app="web")
    assert (repo / "kustomization.yaml").read_text() == kustomization.replace(
        '"1.0"', '"1.1"').replace('"1.0-rc"', '"1.1"')


def test_duplicated_name_renders_the_new_tag(tmp_path: Path) -> None:
    kustomize = require_tool("kustomize")
    kustomization = ("resources: [deploy.yaml]\nimages:\n- name: ghcr.io/acme/web\n  newTag: \"1.0\"\n"
                     "- name: ghcr.io/acme/web\n  newTag: \"1.0-rc\"\n")
    repo = make_repo(tmp_path, {".handoff.yaml": CONFIG, "kustomization.yaml": kustomization,
                                "deploy.yaml": DEPLOYMENT})
    bump(repo, "ghcr.io/acme/web:1.1", app="web")
    rendered = subprocess.run([str(kustomize), "build", str(repo)], capture_output=True, text=True,
                              check=True).stdout
    assert "image: ghcr.io/acme/web:1.1" in rendered


def test_new_name_holding_a_whole_reference_is_edited_in_place(tmp_path: Path) -> None:
    digest = "sha256:" + "a" * 64
    kustomization = f"images:\n- name: ghcr.io/acme/web\n  newName: ghcr.io/acme/web:1.0@sha256:{'b' * 64}\n"
    repo = make_repo(tmp_path, {".handoff.yaml": CONFIG, "kustomization.yaml": kustomization})
    bump(repo, f"ghcr.io/acme/web:1.1@{digest}", app="web")
    assert (repo / "kustomization.yaml").read_text() == (
        f"images:\n- name: ghcr.io/acme/web\n  newName: ghcr.io/acme/web:1.1@{digest}\n")


def test_undeclared_repository_is_refused_naming_both(tmp_path: Path) -> None:
    config = CONFIG.replace("image: ghcr.io/acme/web", "image: nginx")
    repo = make_repo(tmp_path, {".handoff.yaml": config, "kustomization.yaml": "images:\n- name: nginx\n"})
    before = snapshot(repo)
    with pytest.raises(EditError) as err:
        bump(repo, "ghcr.io/acme/typo:1.1", app="web")
    assert "ghcr.io/acme/typo" in str(err.value) and "nginx" in str(err.value)
    assert "--allow-repository-change" in str(err.value)
    assert snapshot(repo) == before


def test_marker_repository_change_is_refused_unless_allowed(tmp_path: Path) -> None:
    text = "image: ghcr.io/acme/web:1.0 # handoff:image web\n"
    repo = make_repo(tmp_path, {"values.yaml": text})
    with pytest.raises(EditError, match=re.escape("from ghcr.io/acme/web to ghcr.io/acme/typo")):
        bump(repo, "ghcr.io/acme/typo:1.1", app="web")
    assert (repo / "values.yaml").read_text() == text
    bump(repo, "ghcr.io/acme/typo:1.1", app="web", allow_repository_change=True)
    assert (repo / "values.yaml").read_text() == text.replace("web:1.0", "typo:1.1")


PROMOTE_CONFIG = """environments:
  dev: {}
  prod: {promote_only: true}
apps:
  web:
    image: ghcr.io/acme/web
    targets:
      - {type: helm, path: "envs/{env}/values.yaml", repository: image.repository, tag: image.tag}
"""
VALUES = "image:\n  repository: ghcr.io/acme/web\n  tag: \"1.0\"\n"


def test_bump_without_env_leaves_promote_only_environments_alone(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {".handoff.yaml": PROMOTE_CONFIG, "envs/dev/values.yaml": VALUES,
                                "envs/prod/values.yaml": VALUES})
    result = bump(repo, "ghcr.io/acme/web:1.1")
    assert result.files == ("envs/dev/values.yaml",)
    assert result.skipped == ("prod",)
    assert (repo / "envs/prod/values.yaml").read_text() == VALUES


def test_explicit_env_still_reaches_a_promote_only_environment(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {".handoff.yaml": PROMOTE_CONFIG, "envs/dev/values.yaml": VALUES,
                                "envs/prod/values.yaml": VALUES})
    assert bump(repo, "ghcr.io/acme/web:1.1", env="prod").files == ("envs/prod/values.yaml",)


def test_only_promote_only_targets_without_env_is_a_usage_error(tmp_path: Path) -> None:
    config = PROMOTE_CONFIG.replace('"envs/{env}/values.yaml"', "envs/prod/values.yaml, env: prod")
    repo = make_repo(tmp_path, {".handoff.yaml": config, "envs/prod/values.yaml": VALUES})
    with pytest.raises(UsageError, match="change only by promotion"):
        bump(repo, "ghcr.io/acme/web:1.1")


def test_cli_says_which_environments_it_left_alone(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_repo(tmp_path, {".handoff.yaml": PROMOTE_CONFIG, "envs/dev/values.yaml": VALUES,
                                "envs/prod/values.yaml": VALUES})
    assert main(["bump", "--image", "ghcr.io/acme/web:1.1", "--config-repo", str(repo)]) == 0
    assert "prod: promote-only, left alone" in capsys.readouterr().out


def test_cli_allows_a_repository_change_when_asked(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {"values.yaml": "image: ghcr.io/acme/web:1.0 # handoff:image web\n"})
    assert main(["bump", "--image", "ghcr.io/acme/typo:1.1", "--app", "web", "--config-repo", str(repo)]) == 1
    assert main(["bump", "--image", "ghcr.io/acme/typo:1.1", "--app", "web", "--config-repo", str(repo),
                 "--allow-repository-change"]) == 0
