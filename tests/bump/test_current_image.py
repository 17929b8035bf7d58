"""current_image: what the config repo declares now (promote reads it from one env to bump the next)."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from handoff.config import load_config
from handoff.edit.bump import bump, current_image
from handoff.imageref import parse
from handoff.manifests import yamlio

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


def test_reading_then_bumping_composes_each_distinct_text_once(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """propose reads the current image, plans the bump and reads the config again: every file's text is
    composed once (the edited text once more, to verify the splice), not once per step."""
    yamlio._composed.clear()
    composed: Counter[tuple[str, str]] = Counter()
    real = yamlio.compose_all

    def counting(text: str, **kw: Any) -> Any:
        composed[(kw["display"], text)] += 1
        return real(text, **kw)

    monkeypatch.setattr(yamlio, "compose_all", counting)
    current_image(repo, app="web", env="dev")
    load_config(repo)
    bump(repo, "ghcr.io/acme/web:2.0.0", env="dev", dry_run=True)
    current_image(repo, app="web", env="dev")
    assert composed and max(composed.values()) == 1
    assert sum(1 for display, _ in composed if display == ".handoff.yaml") == 1
