"""Bad input gives one clear error naming file, line and key, and writes nothing."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from handoff.edit.bump import apply_plan, bump, plan_bump
from handoff.errors import (
    ConfigError,
    EditError,
    HandoffError,
    ImageRefError,
    PathEscapeError,
    YamlError,
)
from handoff.manifests import yamlio

from .helpers import helm_config, make_repo, snapshot

VALUES = "image:\n  repository: ghcr.io/acme/web\n  tag: 1.4.1\n  pullPolicy: IfNotPresent\n"


def refused(repo: Path, error: type[HandoffError], image: str = "ghcr.io/acme/web:1.5.0",
            **kwargs: object) -> str:
    before = snapshot(repo)
    with pytest.raises(error) as caught:
        bump(repo, image, **kwargs)  # type: ignore[arg-type]
    assert snapshot(repo) == before
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_missing_file(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {".handoff.yaml": helm_config(tag="image.tag")})
    assert refused(repo, YamlError) == "values.yaml: file not found"


def test_key_path_not_found_lists_nearest_keys(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {".handoff.yaml": helm_config(tag="image.tagg"), "values.yaml": VALUES})
    message = refused(repo, EditError)
    assert message.startswith("values.yaml:2: at image.tagg: key 'tagg' not found under image")
    assert "nearest keys: tag, " in message


def test_list_selector_not_found_lists_names(tmp_path: Path) -> None:
    values = "sidecars:\n  - name: proxy\n    image: a/b:1\n  - name: logger\n    image: c/d:1\n"
    repo = make_repo(tmp_path, {".handoff.yaml": helm_config(image="sidecars[name=proxyy].image"),
                                "values.yaml": values})
    message = refused(repo, EditError)
    assert "no item with name=proxyy" in message and "proxy" in message


def test_non_scalar_at_target(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {".handoff.yaml": helm_config(tag="image"), "values.yaml": VALUES})
    assert refused(repo, EditError) == "values.yaml:2: at image: expected a scalar value, found a mapping"


def test_malformed_yaml_names_file_and_line(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {".handoff.yaml": helm_config(tag="image.tag"),
                                "values.yaml": "image:\n  tag: 1.4.1\n  list: [a, b\nother: 1\n"})
    message = refused(repo, YamlError)
    assert message.startswith("values.yaml:4: invalid YAML")


def test_duplicate_keys_refused(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {".handoff.yaml": helm_config(tag="image.tag"),
                                "values.yaml": "image:\n  tag: 1.4.1\n  tag: 1.4.2\n"})
    assert refused(repo, YamlError) == "values.yaml:3: duplicate key 'tag' (first on line 2)"


@pytest.mark.parametrize("image", ["ghcr.io/Acme/web:1.0", "web:-bad", "web@sha256:abc", "web:1.0 ", "", "web"])
def test_invalid_image_ref(tmp_path: Path, image: str) -> None:
    repo = make_repo(tmp_path, {".handoff.yaml": helm_config(tag="image.tag"), "values.yaml": VALUES})
    assert refused(repo, ImageRefError, image=image).startswith("invalid image reference")


def test_config_schema_violation_names_line_and_key(tmp_path: Path) -> None:
    config = "apps:\n  web:\n    targets:\n      - type: helm\n        path: 3\n        tag: image.tag\n"
    repo = make_repo(tmp_path, {".handoff.yaml": config, "values.yaml": VALUES})
    assert refused(repo, ConfigError) == ".handoff.yaml:5: at apps.web.targets[0].path: 3 is not of type 'string'"


def test_config_unknown_key_lists_allowed(tmp_path: Path) -> None:
    config = "apps:\n  web:\n    targets: []\n    imagee: x\n"
    repo = make_repo(tmp_path, {".handoff.yaml": config})
    message = refused(repo, ConfigError)
    assert message.startswith(".handoff.yaml:2: at apps.web: Additional properties are not allowed ('imagee'")
    assert "allowed: image, targets" in message


def test_dotdot_path_refused(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {".handoff.yaml": helm_config(tag="image.tag").replace(
        "path: values.yaml", "path: ../values.yaml")})
    make_repo(tmp_path, {"values.yaml": VALUES})
    message = refused(repo, PathEscapeError)
    assert message.startswith(".handoff.yaml:5: at apps.web.targets[0].path: path '../values.yaml' leaves")
    assert (tmp_path / "values.yaml").read_text() == VALUES


def test_symlink_escape_refused(tmp_path: Path) -> None:
    outside = make_repo(tmp_path / "outside", {"values.yaml": VALUES})
    repo = make_repo(tmp_path / "repo", {".handoff.yaml": helm_config(tag="image.tag")})
    (repo / "values.yaml").symlink_to(outside / "values.yaml")
    message = refused(repo, PathEscapeError)
    assert "resolves outside the config repository" in message
    assert (outside / "values.yaml").read_text() == VALUES


def test_alias_bomb_is_bounded(tmp_path: Path) -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    for level in range(1, 10):
        previous = chr(ord("a") + level - 1)
        name = chr(ord("a") + level)
        bomb += f"{name}: &{name} [{', '.join(['*' + previous] * 10)}]\n"
    bomb += "image:\n  tag: 1.4.1\n"
    repo = make_repo(tmp_path, {".handoff.yaml": helm_config(tag="image.tag"), "values.yaml": bomb})
    assert "alias bomb" in refused(repo, YamlError)


def test_too_deep_refused(tmp_path: Path) -> None:
    deep = "image:\n  tag: 1.4.1\nx: " + "[" * 150 + "]" * 150 + "\n"
    repo = make_repo(tmp_path, {".handoff.yaml": helm_config(tag="image.tag"), "values.yaml": deep})
    assert "nesting deeper than 100 levels" in refused(repo, YamlError)


def test_file_over_default_size_limit(tmp_path: Path) -> None:
    big = VALUES + "# " + "x" * (yamlio.DEFAULT_MAX_BYTES + 10) + "\n"
    repo = make_repo(tmp_path, {".handoff.yaml": helm_config(tag="image.tag"), "values.yaml": big})
    assert f"over the {yamlio.DEFAULT_MAX_BYTES}-byte limit" in refused(repo, YamlError)


def test_file_over_configured_size_limit(tmp_path: Path) -> None:
    values = VALUES + "#" * 200 + "\n"
    repo = make_repo(tmp_path, {".handoff.yaml": helm_config(tag="image.tag"), "values.yaml": values})
    message = refused(repo, YamlError, limits=yamlio.Limits(max_bytes=200))
    assert message == f"values.yaml: file is {len(values)} bytes, over the 200-byte limit"


def test_digest_without_digest_key_names_nearby_keys(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {".handoff.yaml": helm_config(tag="image.tag"), "values.yaml": VALUES})
    message = refused(repo, EditError, image="ghcr.io/acme/web:1.5.0@sha256:" + "a" * 64)
    assert "names no digest key" in message and "repository, tag, pullPolicy" in message


def test_block_scalar_target_refused(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {".handoff.yaml": helm_config(tag="image.tag"),
                                "values.yaml": "image:\n  tag: |\n    1.4.1\n"})
    assert "block scalar" in refused(repo, EditError)


def test_one_bad_target_writes_no_file(tmp_path: Path) -> None:
    config = helm_config(tag="image.tag") + "      - {type: helm, path: other.yaml, tag: nope.tag}\n"
    repo = make_repo(tmp_path, {".handoff.yaml": config, "values.yaml": VALUES, "other.yaml": "x: 1\n"})
    refused(repo, EditError)


def test_file_changed_after_planning_is_not_overwritten(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {".handoff.yaml": helm_config(tag="image.tag"), "values.yaml": VALUES})
    plan = plan_bump(repo, "ghcr.io/acme/web:1.5.0")
    (repo / "values.yaml").write_text(VALUES + "# edited meanwhile\n")
    with pytest.raises(EditError, match="changed since the bump was planned"):
        apply_plan(plan)
    assert (repo / "values.yaml").read_text() == VALUES + "# edited meanwhile\n"


def test_failed_write_restores_files_already_replaced(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {".handoff.yaml": helm_config(tag="image.tag"), "values.yaml": VALUES})
    plan = plan_bump(repo, "ghcr.io/acme/web:1.5.0")
    unwritable = Path("/proc/version")  # readable, but no temp file can be created next to it
    content = unwritable.read_bytes()
    extra = dataclasses.replace(plan.files[0], path="proc-version", absolute=unwritable, old=content,
                                new=content + b"x")
    broken = dataclasses.replace(plan, files=(plan.files[0], extra))
    with pytest.raises(EditError, match="earlier files restored"):
        apply_plan(broken)
    assert (repo / "values.yaml").read_text() == VALUES
    assert [p.name for p in repo.iterdir() if "handoff-tmp" in p.name] == []


def test_markers_only_scan_skips_unparsable_files_without_markers(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {
        "values.yaml": "tag: 1.4.1 # handoff:tag web\n",
        "templates/deploy.yaml": "image: {{ .Values.image }} # see handoff: docs\n  bad: [\n",
    })
    result = bump(repo, "ghcr.io/acme/web:1.5.0", app="web")
    assert result.files == ("values.yaml",)


def test_marker_in_an_invalid_file_is_reported(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {"values.yaml": "tag: 1.4.1 # handoff:tag web\nbad: [\n"})
    assert refused(repo, YamlError, app="web").startswith("values.yaml:")


def test_deep_block_nesting_refused(tmp_path: Path) -> None:
    deep = "image:\n  tag: 1.4.1\n" + "".join(f"{' ' * level}k:\n" for level in range(300)) + " " * 300 + "v: 1\n"
    repo = make_repo(tmp_path, {".handoff.yaml": helm_config(tag="image.tag"), "values.yaml": deep})
    assert "nesting deeper than 100 levels" in refused(repo, YamlError)
