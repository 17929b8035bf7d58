"""The one path-containment check: what a render or an edit reads stays inside the config repository.

Config-declared paths go through :func:`resolve_inside`, which refuses absolute paths, ``~`` and any
``..`` component (even one that would land back inside). Paths a config file references relative to
itself (a kustomization's ``../base``) go through :func:`contained`, which allows ``..`` as long as the
result stays inside. Whole input trees (a chart, a manifest directory) go through :func:`check_tree`.
All three resolve symlinks and refuse one whose target lies outside the root, naming the link and
where it points: ``chart/env.txt -> /proc/self/environ: a symlink leaving the config repo``.

A ``.git`` directory under the root counts as outside it: it is git's, not repository content, and a CI
checkout keeps its token there (``actions/checkout`` writes an ``http.extraheader`` into ``.git/config``;
GitLab puts it in the remote URL). So is anything whose resolved path has a ``.git`` component, which
covers the gitfile targets of worktrees and submodules (``.git/worktrees/…``, ``.git/modules/…``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from handoff.errors import PathEscapeError


def resolve_inside(repo: Path, relative: str, *, source: str | None = None, line: int | None = None,
                   key: str | None = None) -> Path:
    """Return the real path of ``relative`` under ``repo`` (which need not exist yet).

    ``source``/``line``/``key`` name where the path was declared, for the error message.
    """
    pure = PurePosixPath(relative.replace("\\", "/"))
    if not relative or pure.is_absolute() or relative.startswith("~"):
        raise PathEscapeError(f"path {relative!r} must be relative to the config repository",
                              file=source, line=line, key=key)
    if ".." in pure.parts:
        raise PathEscapeError(f"path {relative!r} leaves the config repository ('..' is not allowed)",
                              file=source, line=line, key=key)
    root = repo.resolve()
    candidate = (root / pure).resolve()
    if not _allowed(candidate, root):
        if _is_git(pure.parts):
            raise PathEscapeError(f"path {relative!r} is inside a .git directory, not repository content",
                                  file=source, line=line, key=key)
        link, target = _escaping_link(root, pure)
        where = _where(candidate, root, "the config repository")
        raise PathEscapeError(f"path {relative!r} resolves {where}: symlink {link!r} points to {target!r}",
                              file=source, line=line, key=key)
    return candidate


def contained(root: Path, path: Path, *, written: str | None = None, source: str | None = None,
              line: int | None = None, key: str | None = None, leaving: str = "the config repo") -> Path:
    """The real path of ``path`` (absolute, or relative to the working directory; ``..`` allowed)
    when it stays inside ``root``; else a PathEscapeError naming the escaping symlink and its target,
    or the path itself (``written``: as the input spelled it) when ``..`` alone leaves ``root``."""
    real_root = root.resolve()
    real = path.resolve()
    if _allowed(real, real_root):
        return real
    shown = written if written is not None else _shown(path, root)
    link = _first_escaping_link(real_root, Path(os.path.abspath(path)))  # noqa: PTH100 (keep the links)
    if link is None:
        raise PathEscapeError(f"path {shown!r} resolves {_where(real, real_root, leaving)}", file=source,
                              line=line, key=key)
    where = _link_where(link, real_root, leaving)
    raise PathEscapeError(f"{_shown(link, root)} -> {link.readlink()}: a symlink {where}",
                          file=source, line=line, key=key)


def check_tree(root: Path, directory: Path, *, descend: Callable[[str], bool] = lambda _name: True,
               reads: Callable[[str], bool] = lambda _name: True, follow: bool = True,
               leaving: str = "the config repo", refuse_git_dirs: bool = False) -> None:
    """Refuse any symlink under ``directory`` (itself inside ``root``) that a reader of the tree would
    follow out of ``root``: links to files whose name ``reads`` accepts, and links to directories
    ``descend`` accepts (walked too when ``follow``: a link to another in-root directory exposes that
    directory's links); with ``refuse_git_dirs`` also a ``.git`` directory the reader would descend into
    (helm reads every file of a chart), except one at the top of ``directory``: the caller leaves that out
    (``render.helm`` gives helm the chart without it). Plain entries cost one ``scandir`` each: only links are
    resolved. ``leaving`` names the root in the message."""
    real_root = root.resolve()
    seen: set[Path] = set()
    pending = [(directory, directory.resolve())]
    while pending:
        shown_dir, real_dir = pending.pop()
        if real_dir in seen:
            continue
        seen.add(real_dir)
        try:
            entries = sorted(os.scandir(real_dir), key=lambda e: e.name)
        except (FileNotFoundError, NotADirectoryError):
            continue
        for entry in entries:
            if entry.is_symlink():
                shown = shown_dir / entry.name
                target = Path(entry.path).resolve()
                is_dir = target.is_dir()
                if not (descend if is_dir else reads)(entry.name):
                    continue
                if not _allowed(target, real_root):
                    raise PathEscapeError(f"{_shown(shown, root)} -> {Path(entry.path).readlink()}: "
                                          f"a symlink {_link_where(Path(entry.path), real_root, leaving)}")
                # ``self -> .`` in a chart at the repo root: helm would walk the root again, .git included
                if refuse_git_dirs and is_dir and _holds_git(target):
                    raise PathEscapeError(f"{_shown(shown, root)} -> {Path(entry.path).readlink()}: a "
                                          "symlink to a directory holding .git, read through it")
                if is_dir and follow:
                    pending.append((shown, target))
            elif entry.is_dir(follow_symlinks=False) and descend(entry.name):
                if refuse_git_dirs and _is_git((entry.name,)):
                    if shown_dir == directory:
                        continue
                    raise PathEscapeError(f"{_shown(shown_dir / entry.name, root)}: a .git directory, not "
                                          "repository content, would be read")
                pending.append((shown_dir / entry.name, Path(entry.path)))


def _holds_git(directory: Path) -> bool:
    try:
        return any(_is_git((entry.name,)) for entry in os.scandir(directory))
    except OSError:
        return False


def _within(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _is_git(parts: tuple[str, ...]) -> bool:
    return any(part.lower() == ".git" for part in parts)  # .GIT too: git itself treats them alike


def _allowed(path: Path, root: Path) -> bool:
    """``path`` (resolved) is repository content of ``root`` (resolved): inside it and in no ``.git``."""
    return _within(path, root) and not _is_git(path.relative_to(root).parts)


def _where(real: Path, real_root: Path, leaving: str) -> str:
    return "into a .git directory" if _within(real, real_root) else f"outside {leaving}"


def _link_where(link: Path, real_root: Path, leaving: str) -> str:
    return "into a .git directory" if _within(link.resolve(), real_root) else f"leaving {leaving}"


def _shown(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` (lexically, links kept) for messages, else as given."""
    full = os.path.abspath(path)  # noqa: PTH100
    for base in (os.path.abspath(root), str(root.resolve())):  # noqa: PTH100
        if _within(Path(full), Path(base)):
            return os.path.relpath(full, base).replace(os.sep, "/")
    return Path(full).as_posix()


def _first_escaping_link(real_root: Path, path: Path) -> Path | None:
    """The first symlink along the absolute ``path``, resolved as the OS does, whose target leaves
    ``real_root``; None when no link does (``..`` alone escapes)."""
    current = Path(path.anchor)
    for part in path.parts[1:]:
        if part == "..":
            current = current.parent
            continue
        step = current / part
        if step.is_symlink():
            target = step.resolve()
            if _within(step.parent.resolve(), real_root) and not _allowed(target, real_root):
                return step
            current = target
        else:
            current = step
    return None


def _escaping_link(root: Path, pure: PurePosixPath) -> tuple[str, str]:
    """The first symlink along ``pure`` whose resolution leaves ``root``, and its target as written."""
    current = root
    for depth, part in enumerate(pure.parts, start=1):
        current = current / part
        if current.is_symlink() and not _allowed(current.resolve(), root):
            return PurePosixPath(*pure.parts[:depth]).as_posix(), str(current.readlink())
    # not reached for a path that resolved outside; kept total for the type checker
    return pure.as_posix(), str((root / pure).resolve())


def relative_name(repo: Path, path: Path) -> str:
    """``path`` relative to ``repo`` in POSIX form, for messages and diffs."""
    try:
        return path.resolve().relative_to(repo.resolve()).as_posix()
    except ValueError:
        return path.as_posix()
