"""Write an image reference into a config repository: plan (pure), then apply (all-or-nothing).

Which fields change: every target of the selected app(s) in ``.handoff.yaml`` that applies to the
environment, or, with no config file, every marker comment (``# handoff:image APP``) in the repo's YAML.
With no ``app`` given, the apps whose declared ``image`` is the reference's repository are bumped
(without a config: the apps whose ``image``/``name`` markers currently hold that repository).
"""

from __future__ import annotations

import contextlib
import difflib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from handoff.config import Config, Target, load_config
from handoff.edit import markers, read
from handoff.edit import targets as target_kinds
from handoff.edit.editor import FileEditor
from handoff.edit.markers import MarkedFile
from handoff.edit.model import Change
from handoff.errors import EditError, HandoffError, ImageRefError, NoTargetInEnv, UsageError
from handoff.imageref import ImageRef, parse
from handoff.manifests import yamlio
from handoff.pathsafe import resolve_inside

__all__ = ["BumpPlan", "BumpResult", "Change", "FilePlan", "apply_plan", "bump", "current_image",
           "dry_result", "plan_bump"]


@dataclass(frozen=True)
class FilePlan:
    """One file's new bytes. ``path`` is relative to the repo (POSIX)."""

    path: str
    absolute: Path
    old: bytes
    new: bytes
    changes: tuple[Change, ...]

    @property
    def changed(self) -> bool:
        return self.old != self.new


@dataclass(frozen=True)
class BumpPlan:
    repo: Path
    image: ImageRef
    files: tuple[FilePlan, ...] = ()
    skipped: tuple[str, ...] = ()  # promote-only environments a bump without --env left alone
    environments: tuple[str, ...] = ()  # the declared environments whose targets the plan edits

    @property
    def changes(self) -> tuple[Change, ...]:
        return tuple(c for f in self.files for c in f.changes)

    @property
    def changed(self) -> bool:
        return any(f.changed for f in self.files)

    @property
    def diff(self) -> str:
        return "".join(unified_diff(f.path, f.old, f.new) for f in self.files if f.changed)


@dataclass(frozen=True)
class BumpResult:
    changed: bool
    changes: tuple[Change, ...] = ()
    files: tuple[str, ...] = ()
    diff: str = ""
    image: str = ""
    written: bool = field(default=False)
    skipped: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Work:
    app: str
    target: Target
    path: str
    env: str | None


def unified_diff(path: str, old: bytes, new: bytes) -> str:
    old_lines = old.decode("utf-8").splitlines(keepends=True)
    new_lines = new.decode("utf-8").splitlines(keepends=True)
    out = []
    for line in difflib.unified_diff(old_lines, new_lines, f"a/{path}", f"b/{path}"):
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


def _as_ref(image: ImageRef | str) -> ImageRef:
    ref = parse(image) if isinstance(image, str) else image
    if not ref.tag and not ref.digest:
        raise ImageRefError(f"invalid image reference {str(ref)!r}: a tag or a digest is needed to bump to")
    return ref


def plan_bump(repo: Path, image: ImageRef | str, *, app: str | None = None, env: str | None = None,
              limits: yamlio.Limits | None = None, allow_repository_change: bool = False) -> BumpPlan:
    """Compute the new bytes of every affected file; nothing is written.

    An edit that would move an image to another repository is refused unless the app declares that
    repository in ``.handoff.yaml`` or ``allow_repository_change`` is set: a typo in ``--image`` must
    not silently repoint a deployment.
    """
    ref = _as_ref(image)
    limits = limits or yamlio.Limits.from_env()
    config = load_config(repo, limits=limits)
    editors: dict[str, FileEditor] = {}
    changes: dict[str, list[Change]] = {}

    def editor_for(relative: str, *, source: str | None, key: str | None, line: int | None) -> FileEditor:
        if relative not in editors:
            absolute = resolve_inside(repo, relative, source=source, line=line, key=key)
            text, documents = yamlio.load_file(absolute, display=relative, limits=limits)
            editors[relative] = FileEditor(relative, text, documents, limits)
            changes[relative] = []
        return editors[relative]

    skipped: list[str] = []
    declared = False
    works: list[_Work] = []
    if config is None:
        _plan_markers_only(repo, ref, app, env, limits=limits, editor_for=editor_for, changes=changes)
    else:
        works = _select_work(config, ref, app, env, skipped=skipped)
        # env=NAME markers of a promote-only environment are held back too when no --env is given
        held_back = frozenset(n for n, e in config.environments.items() if e.promote_only and env is None)
        declared = _declares(config, works, ref, allow_repository_change)
        for work in works:
            editor = editor_for(work.path, source=".handoff.yaml", key=f"{work.target.key}.path",
                                line=work.target.line)
            changes[work.path] += _edit(editor, work, ref, env, held_back=held_back, skipped=skipped)
    if not (declared or allow_repository_change):
        _refuse_repository_changes(ref, [c for found in changes.values() for c in found])
    files = []
    for relative, editor in editors.items():
        new_text = editor.new_text()
        old = editor.text.encode("utf-8")
        files.append(FilePlan(relative, resolve_inside(repo, relative), old, new_text.encode("utf-8"),
                              tuple(changes[relative])))
    return BumpPlan(repo=repo, image=ref, files=tuple(files), skipped=tuple(skipped),
                    environments=_touched(config, works, _promote_only(config, env, skipped))
                    if config is not None else ())


def _promote_only(config: Config, env: str | None, skipped: list[str]) -> list[str]:
    """The environments a bump without --env must leave alone: skipped ones and every promote-only one
    (a shared file edited for dev must not reach them; render verification proves it)."""
    held = [name for name, e in config.environments.items() if e.promote_only] if env is None else []
    return [*skipped, *(h for h in held if h not in skipped)]


def _touched(config: Config, works: list[_Work], skipped: list[str]) -> tuple[str, ...]:
    """Every declared environment a work item reaches: its own, or all its target applies to."""
    envs: dict[str, None] = {}
    for work in works:
        names = [work.env] if work.env else [e for e in config.environments if work.target.applies_to(e)]
        envs.update((e, None) for e in names if e in config.environments and e not in skipped)
    return tuple(envs)


def _declares(config: Config, works: list[_Work], ref: ImageRef, allowed: bool) -> bool:
    """True when every selected app declares ``ref``'s repository; refuse an app declaring another."""
    declared = True
    for name in dict.fromkeys(w.app for w in works):
        image = config.apps[name].image
        if image is None:
            declared = False
        elif not parse(image).same_repository(ref) and not allowed:
            raise EditError(f"--image {ref.name} is not app {name}'s image {image} (declare the new "
                            "repository in .handoff.yaml, or pass --allow-repository-change)",
                            file=".handoff.yaml", key=f"apps.{name}.image")
    return declared


def _refuse_repository_changes(ref: ImageRef, changes: list[Change]) -> None:
    """Refuse any full-image or name write that replaces another repository's reference."""
    for change in changes:
        old_text, new_text = change.old, change.new
        prefix, _, rest = new_text.partition("=")
        if rest == str(ref) and old_text.startswith(f"{prefix}="):  # an Argo CD `NAME=REF` override
            old_text, new_text = old_text[len(prefix) + 1:], rest
        if not old_text or new_text not in (str(ref), ref.name):
            continue
        try:
            old = parse(old_text) if new_text == str(ref) else parse(f"{old_text}:x")
        except HandoffError:
            continue
        if not old.same_repository(ref):
            raise EditError(f"this edit would change the image repository from {old.name} to {ref.name} "
                            "(declare it as the app's image in .handoff.yaml, or pass "
                            "--allow-repository-change)", file=change.file, line=change.line, key=change.key)


def _edit(editor: FileEditor, work: _Work, ref: ImageRef, env: str | None, *,
          held_back: frozenset[str] = frozenset(), skipped: list[str] | None = None) -> list[Change]:
    kind = work.target.type
    if kind == "helm":
        return target_kinds.helm(editor, work.target, ref)
    if kind == "kustomize":
        return target_kinds.kustomize(editor, work.target, ref)
    if kind == "manifest":
        return target_kinds.manifest(editor, work.target, ref)
    found = target_kinds.marker(editor, ref, apps={work.app}, env=work.env or env, held_back=held_back)
    real = MarkedFile(editor.display, editor.text, editor.documents).markers
    if skipped is not None:
        skipped += [m.env for m in real if m.app == work.app and m.env in held_back and m.env not in skipped]
    if not any(m.app == work.app for m in real):
        raise EditError(f"no `# handoff:... {work.app}` marker in this file", file=editor.display,
                        key=work.target.key or None)
    return found


def _select_work(config: Config, ref: ImageRef | None, app: str | None, env: str | None, *,
                 skipped: list[str] | None = None) -> list[_Work]:
    """What to edit. Without ``env``, promote-only environments are left alone (named in ``skipped``)."""
    promote_only = ({name for name, e in config.environments.items() if e.promote_only} if env is None
                    else set())
    if env is not None and config.environments and env not in config.environments:
        raise UsageError(f"unknown environment {env!r} (declared: {', '.join(sorted(config.environments))})")
    if app is not None:
        if app not in config.apps:
            raise UsageError(f"unknown app {app!r} (declared: {', '.join(sorted(config.apps)) or 'none'})")
        apps = [config.apps[app]]
    elif ref is None:
        raise UsageError("pass --app")
    else:
        apps = [a for a in config.apps.values() if a.image and parse(a.image).same_repository(ref)]
        if not apps:
            raise UsageError(f"no app in .handoff.yaml has image {ref.name!r}; pass --app")
    work: list[_Work] = []
    for selected in apps:
        for target in selected.targets:
            if not target.applies_to(env):
                continue
            if "{env}" in target.path:
                envs = [env] if env else list(target.envs or config.environments)
                if not envs:
                    raise UsageError(f"{target.key}.path uses {{env}}: pass --env or declare environments")
                held_back = [e for e in envs if e in promote_only]
                if skipped is not None:
                    skipped += [e for e in held_back if e not in skipped]
                work += [_Work(selected.name, target, target.path.replace("{env}", e), e)
                         for e in envs if e not in held_back]
            elif target.envs is not None and promote_only.issuperset(target.envs):
                if skipped is not None:
                    skipped += [e for e in target.envs if e not in skipped]
            else:
                work.append(_Work(selected.name, target, target.path, env))
    if not work:
        held = f" ({', '.join(sorted(promote_only))} change only by promotion)" if promote_only else ""
        raise NoTargetInEnv(f"no target of {', '.join(a.name for a in apps)} applies to environment "
                         f"{env!r}{held}")
    return work


def _yaml_files(repo: Path) -> Iterator[str]:
    root = repo.resolve()
    for directory, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.endswith((".yaml", ".yml")) and not name.startswith("."):
                yield (Path(directory) / name).relative_to(root).as_posix()


def _marked_files(repo: Path, limits: yamlio.Limits) -> Iterator[tuple[str, set[str]]]:
    """``(path, apps its marker-like lines name)`` for every YAML file that may hold a marker."""
    for relative in _yaml_files(repo):
        absolute = repo.resolve() / relative
        if absolute.is_symlink() or absolute.stat().st_size > limits.max_bytes:
            continue  # scanned, not named: skip quietly; a named file gets the full checks
        raw = absolute.read_bytes()
        if b"#" in raw:  # a look-alike marker need not spell "handoff" in ASCII
            text = raw.decode("utf-8", "replace")
            # a near-miss names its app as it reads ("" for none: it concerns every app)
            apps = {m.app for m in markers.scan(text)}
            apps |= {markers.fold(m.app) for m in markers.near_misses(text)}
            if apps:
                yield relative, apps


def _plan_markers_only(repo: Path, ref: ImageRef, app: str | None, env: str | None, *,
                       limits: yamlio.Limits, editor_for: _EditorFor,
                       changes: dict[str, list[Change]]) -> None:
    marked = list(_marked_files(repo, limits))
    apps = {app} if app else _apps_holding(marked, ref, editor_for)
    if not apps:
        raise UsageError("no .handoff.yaml and no `# handoff:image`/`# handoff:name` marker holds "
                         f"{ref.name!r}; pass --app")
    # Only files whose marker-like lines name a selected app are parsed: a broken file holding another
    # app's marker never blocks this bump, and one holding this app's marker fails it.
    editors = [editor_for(relative, source=None, key=None, line=None) for relative, named in marked
               if named & apps or "" in named]
    for editor in editors:
        changes[editor.display] += target_kinds.marker(editor, ref, apps=apps, env=env)
    real = (m for e in editors for m in MarkedFile(e.display, e.text, e.documents).markers)
    if not any(changes.values()) and not any(m.app in apps for m in real):
        raise UsageError(f"no `# handoff:...` marker for app {', '.join(sorted(apps))} in the repository")


def _apps_holding(marked: list[tuple[str, set[str]]], ref: ImageRef, editor_for: _EditorFor) -> set[str]:
    """The apps whose image/name markers hold ``ref``'s repository now (unparseable files are skipped:
    with no app named, a broken file only blocks the bump once it turns out to hold a selected app)."""
    apps: set[str] = set()
    for relative, _ in marked:
        try:
            editor = editor_for(relative, source=None, key=None, line=None)
        except HandoffError:
            continue
        for mark in MarkedFile(editor.display, editor.text, editor.documents).markers:
            if mark.field not in ("image", "name"):
                continue
            with contextlib.suppress(HandoffError):
                binding = MarkedFile(editor.display, editor.text, editor.documents).bind(mark)
                if parse(str(binding.node.value)).same_repository(ref):
                    apps.add(mark.app)
    return apps


class _EditorFor(Protocol):
    def __call__(self, relative: str, *, source: str | None, key: str | None,
                 line: int | None) -> FileEditor: ...


def apply_plan(plan: BumpPlan) -> BumpResult:
    """Write every changed file atomically; if any write fails, restore those already replaced."""
    pending = [f for f in plan.files if f.changed]
    for file in pending:
        try:
            current = file.absolute.read_bytes()
        except OSError as e:
            raise EditError(f"cannot read file: {e.strerror}", file=file.path) from e
        if current != file.old:
            raise EditError("file changed since the bump was planned; nothing written", file=file.path)
    done: list[FilePlan] = []
    try:
        for file in pending:
            _atomic_write(file.absolute, file.new)
            done.append(file)
    except OSError as e:
        for written in reversed(done):
            with contextlib.suppress(OSError):
                _atomic_write(written.absolute, written.old)
        raise EditError(f"cannot write file ({e.strerror}); earlier files restored",
                        file=pending[len(done)].path) from e
    return _result(plan, written=bool(pending))


def dry_result(plan: BumpPlan) -> BumpResult:
    """What ``plan`` would change, without writing it."""
    return _result(plan, written=False)


def _result(plan: BumpPlan, *, written: bool) -> BumpResult:
    return BumpResult(changed=plan.changed, changes=plan.changes,
                      files=tuple(f.path for f in plan.files if f.changed), diff=plan.diff,
                      image=str(plan.image), written=written, skipped=plan.skipped)


def _atomic_write(path: Path, data: bytes) -> None:
    mode = path.stat().st_mode & 0o7777 if path.exists() else 0o644
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".handoff-tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        Path(temp).chmod(mode)
        Path(temp).replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            Path(temp).unlink()
        raise


def bump(repo: Path, image: ImageRef | str, *, app: str | None = None, env: str | None = None,
         dry_run: bool = False, limits: yamlio.Limits | None = None,
         allow_repository_change: bool = False) -> BumpResult:
    """Plan and (unless ``dry_run``) apply a bump. Same image again: ``changed`` is False."""
    plan = plan_bump(repo, image, app=app, env=env, limits=limits,
                     allow_repository_change=allow_repository_change)
    return dry_result(plan) if dry_run else apply_plan(plan)


def current_image(repo: Path, *, app: str, env: str | None, limits: yamlio.Limits | None = None) -> ImageRef:
    """The image the config repo declares now for ``app`` in ``env`` (its first applicable target)."""
    limits = limits or yamlio.Limits.from_env()
    config = load_config(repo, limits=limits)
    if config is None:
        return _marker_image(repo, app, env, limits)
    work = _select_work(config, None, app, env)[0]
    absolute = resolve_inside(repo, work.path, source=".handoff.yaml", key=f"{work.target.key}.path")
    text, documents = yamlio.load_file(absolute, display=work.path, limits=limits)
    editor = FileEditor(work.path, text, documents, limits)
    return read.read_target(editor, work.target, work.app, work.env, declared=config.apps[app].image)


def _marker_image(repo: Path, app: str, env: str | None, limits: yamlio.Limits) -> ImageRef:
    editors = []
    for relative, named in _marked_files(repo, limits):
        if app in named:
            text, documents = yamlio.load_file(repo.resolve() / relative, display=relative, limits=limits)
            editors.append(FileEditor(relative, text, documents, limits))
    return read.markers_image(editors, app, env)
