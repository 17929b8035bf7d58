"""Render-verified bump: prove an edit by rendering what it touches, before anything is written.

A bump can edit the right key of the wrong file: an overlay's ``images:`` overrides the base, another
values file wins, or the edited file is not part of the render at all. So every environment the bump
touches is rendered with the old and with the new bytes (the same renderer as ``validate --env``), and
the bump is refused unless every image of the app's repository in the new render is the new reference
and nothing but image fields (and values carrying the old tag or digest) changed.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from handoff.config import Config, load_config
from handoff.edit.bump import BumpPlan, BumpResult, apply_plan, dry_result, plan_bump
from handoff.errors import EditError, HandoffError
from handoff.imageref import ImageRef, parse
from handoff.manifests import yamlio
from handoff.manifests.model import RenderedObject


class RenderUnavailable(EditError):
    """The environment could not be rendered at all, so the bump cannot be proven (the plan of the
    same environment reports why, as a finding)."""


@dataclass(frozen=True)
class Verification:
    """What the render proved: the environments rendered, or why nothing was (``skipped``)."""

    environments: tuple[str, ...] = ()
    skipped: str = ""


def verified_bump(repo: Path, image: ImageRef | str, *, app: str | None = None, env: str | None = None,
                  dry_run: bool = False, limits: yamlio.Limits | None = None,
                  allow_repository_change: bool = False,
                  skip_verification: str | None = None) -> tuple[BumpResult, Verification]:
    """Plan a bump, prove it by rendering (unless ``skip_verification`` gives the reason), then write."""
    plan = plan_bump(repo, image, app=app, env=env, limits=limits,
                     allow_repository_change=allow_repository_change)
    if skip_verification is not None:
        verification = Verification(skipped=f"--no-verify-render: {skip_verification}")
    else:
        verification = verify_render(plan, load_config(repo), plan.environments)
    return (dry_result(plan) if dry_run else apply_plan(plan)), verification


def verify_render(plan: BumpPlan, config: Config | None, envs: tuple[str, ...]) -> Verification:
    """Refuse ``plan`` (EditError naming the object and the file that wins) unless each of ``envs``
    renders the new image everywhere the app's repository appears."""
    rendered = tuple(e for e in envs if config is not None and e in config.environments
                     and config.environments[e].render is not None)
    others = tuple(e for e, declared in (config.environments.items() if config is not None else ())
                   if declared.render is not None and e not in envs)
    if not plan.changed:
        return Verification(skipped="nothing changed")
    if config is None or not (rendered or others):
        return Verification(skipped="no environment declares a render")
    from handoff.render import render_env  # noqa: PLC0415 (a bump that renders nothing never loads them)
    with tempfile.TemporaryDirectory(prefix="handoff-verify-") as scratch:
        before, after = Path(scratch) / "before", Path(scratch) / "after"
        _copy_tree(plan.repo, before)
        _copy_tree(plan.repo, after)
        for file in plan.files:
            if file.changed:
                (after / file.path).write_bytes(file.new)
        for env in rendered:
            try:
                old = render_env(before, config, env).objects
                new = render_env(after, config, env).objects
            except HandoffError as e:
                raise RenderUnavailable(f"cannot render environment {env} to prove the bump: {e.message}",
                                        file=e.file, line=e.line, key=e.key) from e
            _check(env, plan, old, new, after)
        for env in others:
            _untouched(env, plan, config, (before, after), render_env)
    return Verification(environments=rendered)


def _untouched(env: str, plan: BumpPlan, config: Config, trees: tuple[Path, Path],
               render_env: Callable[[Path, Config, str], Any]) -> None:
    """An environment the bump does not target (promote-only without --env, or outside the targets'
    ``env:``) must render exactly as before: a shared base edited for dev must not deploy to prod."""
    before, after = trees
    try:
        old = render_env(before, config, env).objects
    except HandoffError:
        return  # it does not render today either; nothing the bump could change is provable
    try:
        new = render_env(after, config, env).objects
    except HandoffError as e:
        raise EditError(f"the bump breaks the render of environment {env}, which it does not target: "
                        f"{e.message}", file=e.file, line=e.line, key=e.key) from e
    old_by_ref = {str(o.ref): o.obj for o in old}
    for obj in new:
        previous = old_by_ref.get(str(obj.ref))
        difference = (next(_differences(previous, obj.obj, ""), None) if previous is not None
                      else ("(new object)", None, None))
        if difference is not None:
            first = plan.changes[0]
            path, was, now = difference
            raise EditError(f"the bump also changes environment {env}'s render ({obj.ref} {path}: {was!r} -> "
                            f"{now!r}), which it does not target ({env} is promote-only or outside the "
                            "targets' env): give the shared file's target an {env} path, or bump with --env",
                            file=first.file, line=first.line, key=first.key)
    if len(new) != len(old):
        first = plan.changes[0]
        raise EditError(f"the bump changes which objects environment {env} renders, which it does not target",
                        file=first.file, line=first.line, key=first.key)


def _copy_tree(source: Path, target: Path) -> None:
    shutil.copytree(source, target, symlinks=True, ignore=shutil.ignore_patterns(".git"))


def _check(env: str, plan: BumpPlan, old: tuple[RenderedObject, ...], new: tuple[RenderedObject, ...],
           root: Path) -> None:
    ref = plan.image
    seen = False
    for obj in new:
        for path, value in image_fields(obj.obj):
            image = _parse(value)
            if image is None or not image.same_repository(ref):
                continue
            seen = True
            if not _carries(image, ref):
                file, line, _ = obj.where(path)
                winner = _overriding_entry(root, image) or f"{file}:{line}"
                raise EditError(f"environment {env} still renders {value} at {obj.ref} {path} "
                                f"(set by {winner}), not {ref}: the edit does not reach the render",
                                file=file, line=line, key=path)
    if not seen:
        _values_reach_render(env, plan, old, new)
        return
    _only_image_fields_changed(env, ref, old, new)


def _values_reach_render(env: str, plan: BumpPlan, old: tuple[RenderedObject, ...],
                         new: tuple[RenderedObject, ...]) -> None:
    """No workload of the image renders (a Flux HelmRelease or an Argo CD Application carries the values
    and the controller expands the chart): the edit is proven when the rendered objects carry exactly the
    written values, and refused when the render does not change at all."""
    first = plan.changes[0]
    written = {c.new for c in plan.changes}
    before = {str(o.ref): o for o in old}
    if before.keys() != {str(o.ref) for o in new}:
        raise EditError(f"environment {env}: the bump changes which objects render", file=first.file,
                        line=first.line, key=first.key)
    changed = False
    for obj in new:
        previous = before.get(str(obj.ref))
        if previous is None:
            continue
        for path, old_value, new_value in _differences(previous.obj, obj.obj, ""):
            if str(new_value) not in written:
                file, line, _ = obj.where(path)
                raise EditError(f"environment {env}: the bump also changes {obj.ref} {path} "
                                f"({old_value!r} -> {new_value!r}), which is not a value it wrote",
                                file=file, line=line, key=path)
            changed = True
    if not changed:
        raise EditError(f"environment {env} renders no image of {plan.image.name} and none of the edited "
                        "values: this file is not part of its render, or another file overrides the value "
                        "(check the environment's render path, patches and values)", file=first.file,
                        line=first.line, key=first.key)


def _carries(image: ImageRef, ref: ImageRef) -> bool:
    if ref.digest:
        return image.digest == ref.digest and (not image.tag or image.tag == ref.tag)
    return image.tag == ref.tag and not image.digest


def _only_image_fields_changed(env: str, ref: ImageRef, old: tuple[RenderedObject, ...],
                               new: tuple[RenderedObject, ...]) -> None:
    before = {str(o.ref): o for o in old}
    after = {str(o.ref): o for o in new}
    previous = {(image.tag, image.digest) for o in old for _, v in image_fields(o.obj)
                for image in [_parse(v)] if image is not None and image.same_repository(ref)}
    if before.keys() != after.keys():
        added = sorted(after.keys() - before.keys())
        removed = sorted(before.keys() - after.keys())
        raise EditError(f"environment {env}: the bump changes which objects render (added {added or 'none'}, "
                        f"removed {removed or 'none'})")
    for name, obj in after.items():
        for path, old_value, new_value in _differences(before[name].obj, obj.obj, ""):
            if _image_path(path) or _derived(old_value, new_value, ref, previous):
                continue
            file, line, _ = obj.where(path)
            # the values stay out: any field may hold a secret, in any encoding a template gave it
            raise EditError(f"environment {env}: the bump also changes {name} {path}, which is not an image "
                            "field", file=file, line=line, key=path)


def _derived(old: Any, new: Any, ref: ImageRef, previous: set[tuple[str | None, str | None]]) -> bool:
    """A value that only carries the image's tag or digest (a version label, an env var): the old
    value with an old tag or digest replaced by the new one."""
    if not isinstance(old, str) or not isinstance(new, str):
        return False
    for old_tag, old_digest in previous:
        for was, now in ((old_tag, ref.tag), (old_digest, ref.digest)):
            if was and now and was in old and old.replace(was, now) == new:
                return True
    return False


def _differences(old: Any, new: Any, path: str) -> Iterator[tuple[str, Any, Any]]:
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        for key in sorted(set(old) | set(new), key=str):
            child = f"{path}.{key}" if path else str(key)
            yield from _differences(old.get(key), new.get(key), child)
    elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for index, (a, b) in enumerate(zip(old, new, strict=True)):
            yield from _differences(a, b, f"{path}[{index}]")
    elif old != new:
        yield path, old, new


def image_fields(obj: Mapping[str, Any], path: str = "") -> Iterator[tuple[str, str]]:
    """Every ``image`` string of a container list and every image volume's ``image.reference``."""
    for key, value in obj.items():
        child = f"{path}.{key}" if path else str(key)
        if isinstance(value, str) and _image_path(child):
            yield child, value
        elif isinstance(value, Mapping):
            yield from image_fields(value, child)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, Mapping):
                    yield from image_fields(item, f"{child}[{index}]")


def _image_path(path: str) -> bool:
    leaf = path.rsplit(".", 1)[-1]
    parent = path[:-len(leaf) - 1]
    if leaf == "image":
        return parent.rsplit(".", 1)[-1].split("[", 1)[0] in ("containers", "initContainers",
                                                             "ephemeralContainers")
    return leaf == "reference" and parent.endswith(".image") and ".volumes[" in path


def _parse(value: str) -> ImageRef | None:
    try:
        return parse(value)
    except HandoffError:
        return None


def _overriding_entry(root: Path, image: ImageRef) -> str:
    """The kustomization line whose ``images:`` entry for this image sets the tag that rendered."""
    if not image.tag:
        return ""
    for kustomization in sorted(root.rglob("kustomization.y*ml")):
        if kustomization.is_symlink() or not kustomization.is_file():
            continue
        display = kustomization.relative_to(root).as_posix()
        try:
            documents = yamlio.load_file(kustomization, display=display)[1]
        except HandoffError:
            continue
        for entry in _image_entries(documents[0] if documents else None):
            name = yamlio.to_data(entry.get("newName")) or yamlio.to_data(entry.get("name"))
            tag = entry.get("newTag")
            owner = _parse(f"{name}:x") if isinstance(name, str) else None
            if owner is not None and owner.same_repository(image) and tag is not None \
                    and str(yamlio.to_data(tag)) == image.tag:
                return f"{display}:{tag.start_mark.line + 1}"
    return ""


def _image_entries(document: yamlio.Node | None) -> Iterator[dict[str, yamlio.Node]]:
    """The ``images:`` entries of a kustomization document, each as {key: value node}."""
    if not isinstance(document, yamlio.MappingNode):
        return
    for key, value in document.value:
        if key.value == "images" and isinstance(value, yamlio.SequenceNode):
            for item in value.value:
                if isinstance(item, yamlio.MappingNode):
                    yield {str(k.value): v for k, v in item.value}
