"""current_image: what the config repo declares now (promote reads it from one env to bump the next)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from handoff.edit.bump import bump, current_image
from handoff.imageref import parse

from .helpers import make_repo

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "config-repo"
DIGEST = "sha256:" + "c" * 64


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    shutil.copytree(EXAMPLE, tmp_path / "repo")
    return tmp_path / "repo"


def test_reads_helm_target(repo: Path) -> None:
    assert current_image(repo, app="web", env="dev") == parse("ghcr.io/acme/web:1.4.1")


def test_follows_a_bump_per_environment(repo: Path) -> None:
    bump(repo, f"ghcr.io/acme/web:2.0.0@{DIGEST}", env="dev")
    assert str(current_image(repo, app="web", env="dev")) == f"ghcr.io/acme/web:2.0.0@{DIGEST}"


def test_reads_kustomize_entry(tmp_path: Path) -> None:
    config = "apps:\n  web:\n    targets:\n      - {type: kustomize, path: k.yaml, name: web}\n"
    repo = make_repo(tmp_path, {".handoff.yaml": config,
                                "k.yaml": "images:\n- name: web\n  newName: ghcr.io/acme/web\n  newTag: v3\n"})
    assert current_image(repo, app="web", env=None) == parse("ghcr.io/acme/web:v3")


def test_reads_manifest_container(tmp_path: Path) -> None:
    config = "apps:\n  web:\n    targets:\n      - {type: manifest, path: d.yaml, kind: Deployment, container: app}\n"
    deployment = ("kind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    spec:\n      containers:\n"
                  "      - {name: side, image: busybox:1}\n      - {name: app, image: 'ghcr.io/acme/web:7'}\n")
    repo = make_repo(tmp_path, {".handoff.yaml": config, "d.yaml": deployment})
    assert current_image(repo, app="web", env=None) == parse("ghcr.io/acme/web:7")


def test_reads_markers_without_config(tmp_path: Path) -> None:
    values = ("image:\n  repository: ghcr.io/acme/web # handoff:name web\n"
              "  tag: v1 # handoff:tag web env=dev\n  prodTag: v0 # handoff:tag web env=prod\n")
    repo = make_repo(tmp_path, {"values.yaml": values})
    assert current_image(repo, app="web", env="prod") == parse("ghcr.io/acme/web:v0")
    assert current_image(repo, app="web", env="dev") == parse("ghcr.io/acme/web:v1")
