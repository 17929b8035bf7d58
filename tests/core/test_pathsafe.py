"""The one containment check, and the render and reconciler paths that now go through it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from handoff.config import load_config
from handoff.errors import PathEscapeError, RenderError
from handoff.pathsafe import resolve_inside
from handoff.reconciler.config import Source
from handoff.reconciler.loop import render_source
from handoff.reconciler.source import Checkout
from handoff.render import render_env

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: '1'\n"


@pytest.fixture
def layout(tmp_path: Path) -> tuple[Path, Path]:
    repo, outside = tmp_path / "repo", tmp_path / "outside"
    (repo / "app").mkdir(parents=True)
    (repo / "app" / "cm.yaml").write_text(CM)
    outside.mkdir()
    (outside / "secret.yaml").write_text(CM.replace("name: c", "name: stolen"))
    return repo, outside


def test_inside_paths_resolve(layout: tuple[Path, Path]) -> None:
    repo, _ = layout
    (repo / "alias").symlink_to("app")  # a link that stays inside is fine
    assert resolve_inside(repo, "alias/cm.yaml") == (repo / "app" / "cm.yaml").resolve()
    assert resolve_inside(repo, ".") == repo.resolve()
    assert resolve_inside(repo, "not/yet/there.yaml") == (repo / "not/yet/there.yaml").resolve()


@pytest.mark.parametrize("relative", ["../outside/secret.yaml", "app/../app/cm.yaml", "app/..", "..\\outside"])
def test_dotdot_is_refused_even_when_it_lands_inside(layout: tuple[Path, Path], relative: str) -> None:
    with pytest.raises(PathEscapeError, match=r"leaves the config repository \('\.\.' is not allowed\)"):
        resolve_inside(layout[0], relative, source=".handoff.yaml", key="k")


@pytest.mark.parametrize("relative", ["/etc/passwd", "~/x", ""])
def test_absolute_and_home_paths_are_refused(layout: tuple[Path, Path], relative: str) -> None:
    with pytest.raises(PathEscapeError, match="must be relative to the config repository"):
        resolve_inside(layout[0], relative)


def test_a_symlink_out_is_refused_naming_the_link_and_its_target(layout: tuple[Path, Path]) -> None:
    repo, outside = layout
    (repo / "app" / "vendor").symlink_to(outside)
    with pytest.raises(PathEscapeError) as caught:
        resolve_inside(repo, "app/vendor/secret.yaml", source=".handoff.yaml", line=4, key="apps.web.path")
    message = str(caught.value)
    assert message.startswith(".handoff.yaml:4: at apps.web.path: path 'app/vendor/secret.yaml' resolves "
                              "outside the config repository")
    assert f"symlink 'app/vendor' points to '{outside}'" in message


def test_a_symlinked_file_out_is_refused(layout: tuple[Path, Path]) -> None:
    repo, _ = layout
    (repo / "values.yaml").symlink_to("../outside/secret.yaml")
    with pytest.raises(PathEscapeError, match=re.escape("symlink 'values.yaml' points to '../outside/secret.yaml'")):
        resolve_inside(repo, "values.yaml")


def _config(repo: Path, path: str, values: str = "[]") -> None:
    (repo / ".handoff.yaml").write_text(
        f"environments:\n  dev:\n    render:\n      type: plain\n      path: {path}\n      values: {values}\n")


def test_render_env_refuses_dotdot_it_used_to_allow(layout: tuple[Path, Path]) -> None:
    """The render layer's own check resolved and compared, so 'app/../app' (and worse, through a
    symlink made after the check) passed; it now goes through resolve_inside."""
    repo, _ = layout
    _config(repo, "app/../app")
    config = load_config(repo)
    assert config is not None
    with pytest.raises(PathEscapeError, match=re.escape("at environments.dev.render.path: path 'app/../app' leaves")):
        render_env(repo, config, "dev")


def test_render_env_refuses_a_symlink_out(layout: tuple[Path, Path]) -> None:
    repo, outside = layout
    (repo / "leak").symlink_to(outside)
    _config(repo, "leak")
    config = load_config(repo)
    assert config is not None
    with pytest.raises(PathEscapeError, match=re.escape(f"symlink 'leak' points to '{outside}'")):
        render_env(repo, config, "dev")


def test_render_env_renders_inside_paths(layout: tuple[Path, Path]) -> None:
    repo, _ = layout
    _config(repo, "app")
    config = load_config(repo)
    assert config is not None
    result = render_env(repo, config, "dev")
    assert [o.obj["metadata"]["name"] for o in result.objects] == ["c"]


def test_the_reconciler_refuses_a_source_path_that_links_out(layout: tuple[Path, Path]) -> None:
    repo, outside = layout
    (repo / "deploy").symlink_to(outside)
    source = Source(name="web", url="https://git.example/config.git", path="deploy")
    with pytest.raises(RenderError, match="source web: revision 0123456789ab: .*"
                                          + re.escape(f"symlink 'deploy' points to '{outside}'")):
        render_source(source, Checkout(revision="0123456789ab" * 3 + "0123", root=repo))
