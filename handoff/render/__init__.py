"""Rendering: plain YAML, Kustomize and Helm behind one interface, shared by CI and the reconciler.

``render_path(path, repo=...)`` auto-detects the kind of tree; ``render_env(repo, config, env)`` uses
the environment's RenderSpec from ``.handoff.yaml``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from handoff.errors import ConfigError, RenderError
from handoff.manifests.bounds import compact_json_size, node_budget
from handoff.manifests.model import RenderedObject, RenderResult
from handoff.manifests.plain import combine, display_name
from handoff.pathsafe import resolve_inside
from handoff.render.base import Renderer, RenderSource
from handoff.render.determinism import check_determinism
from handoff.render.helm import HelmRenderer
from handoff.render.inputs import check_inputs, input_root
from handoff.render.kustomize import KustomizeRenderer, kustomization_file
from handoff.render.plain import PlainRenderer
from handoff.render.policy import RenderPolicy, current, render_policy

if TYPE_CHECKING:
    from handoff.config import Config

RENDERERS: dict[str, Renderer] = {
    "plain": PlainRenderer(),
    "kustomize": KustomizeRenderer(),
    "helm": HelmRenderer(),
}


def detect(path: Path) -> str:
    """``kustomize`` for a dir with a kustomization, ``helm`` for a chart, else ``plain``."""
    directory = path if path.is_dir() else None
    if directory is not None and kustomization_file(directory) is not None:
        return "kustomize"
    if directory is not None and (directory / "Chart.yaml").is_file():
        return "helm"
    return "plain"


def render_path(path: Path, *, repo: Path, kind: str | None = None, values: Sequence[Path] = (),
                release: str = "release", namespace: str = "") -> RenderResult:
    """Render one path (auto-detected unless ``kind`` is given); file names relative to ``repo``."""
    name = kind or detect(path)
    renderer = RENDERERS.get(name)
    if renderer is None:
        raise ConfigError(f"unknown render type {kind!r} (choose one of {', '.join(RENDERERS)})")
    source = RenderSource(path=path, values=tuple(values), release=release, namespace=namespace)
    with node_budget(current().limits.max_nodes):  # every YAML text the render parses is charged to it
        check_inputs(input_root(repo, path), source, name)  # before any renderer reads a byte
        return bounded(renderer.render(repo, source), display_name(path, repo))


def check_render_inputs(path: Path, *, repo: Path, kind: str | None = None) -> None:
    """What ``render_path`` checks first, for readers that bypass it (the parallel plain validator):
    nothing the render of ``path`` reads resolves outside the config repo (``render.inputs``)."""
    check_inputs(input_root(repo, path), RenderSource(path=path), kind or detect(path))


def render_paths(paths: Sequence[Path], *, repo: Path) -> RenderResult:
    names = ", ".join(display_name(p, repo) for p in paths)
    with node_budget(current().limits.max_nodes):  # one budget for all of them
        return bounded(combine(render_path(p, repo=repo) for p in paths), names)


def bounded(result: RenderResult, what: str) -> RenderResult:
    """``result`` when within the policy's object count and total size (as compact JSON), else a
    RenderError naming the render and the cap: what follows (schemas, policies, apply) walks it all."""
    limits = current().limits
    if len(result.objects) > limits.max_objects:
        raise RenderError(f"render of {what}: {len(result.objects)} objects, over the "
                          f"{limits.max_objects}-object cap (--max-render-objects, "
                          "HANDOFF_MAX_RENDER_OBJECTS or the reconciler's render.maxObjects)")
    total = 0
    for obj in result.objects:
        total += compact_json_size(obj.obj, limits.max_total_bytes - total)
        if total > limits.max_total_bytes:
            raise RenderError(f"render of {what}: over the {limits.max_total_bytes}-byte total render "
                              "size cap (--max-render-total-bytes, HANDOFF_MAX_RENDER_TOTAL_BYTES or the "
                              "reconciler's render.maxTotalBytes)")
    return result


def render_env(repo: Path, config: Config, env: str) -> RenderResult:
    """Render what environment ``env`` of ``config`` deploys."""
    environment = config.environments.get(env)
    if environment is None:
        known = ", ".join(sorted(config.environments)) or "none"
        raise ConfigError(f"unknown environment {env!r} (known: {known})", file=config.path.name)
    spec = environment.render
    if spec is None:
        raise ConfigError(f"environment {env!r} has no render settings", file=config.path.name,
                          key=f"environments.{env}.render")
    file = str(config.path)
    path = _declared(repo, spec.path, f"environments.{env}.render.path", file)
    values = [_declared(repo, v, f"environments.{env}.render.values", file) for v in spec.values]
    return render_path(path, repo=repo.resolve(), kind=spec.type, values=values, release=spec.release,
                       namespace=spec.namespace)


def _declared(repo: Path, relative: str, key: str, file: str) -> Path:
    """A path the config declares: inside the repository (``pathsafe``) and present."""
    path = resolve_inside(repo, relative, source=file, key=key)
    if not path.exists():
        raise ConfigError(f"{relative} does not exist", file=file, key=key)
    return path


__all__ = [
    "RENDERERS",
    "RenderPolicy",
    "RenderResult",
    "RenderSource",
    "RenderedObject",
    "Renderer",
    "bounded",
    "check_determinism",
    "check_render_inputs",
    "detect",
    "render_env",
    "render_path",
    "render_paths",
    "render_policy",
]
