"""The one path-containment check: config-declared paths stay inside the config repository.

Render, edit, validate and the reconciler all resolve a declared path through :func:`resolve_inside`,
which refuses absolute paths, ``~``, any ``..`` component (even one that would land back inside), and
symlinks whose target lies outside the repository, naming the link and where it points.
"""

from __future__ import annotations

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
    if not _within(candidate, root):
        link, target = _escaping_link(root, pure)
        raise PathEscapeError(f"path {relative!r} resolves outside the config repository: symlink "
                              f"{link!r} points to {target!r}", file=source, line=line, key=key)
    return candidate


def _within(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _escaping_link(root: Path, pure: PurePosixPath) -> tuple[str, str]:
    """The first symlink along ``pure`` whose resolution leaves ``root``, and its target as written."""
    current = root
    for depth, part in enumerate(pure.parts, start=1):
        current = current / part
        if current.is_symlink() and not _within(current.resolve(), root):
            return PurePosixPath(*pure.parts[:depth]).as_posix(), str(current.readlink())
    # not reached for a path that resolved outside; kept total for the type checker
    return pure.as_posix(), str((root / pure).resolve())


def relative_name(repo: Path, path: Path) -> str:
    """``path`` relative to ``repo`` in POSIX form, for messages and diffs."""
    try:
        return path.resolve().relative_to(repo.resolve()).as_posix()
    except ValueError:
        return path.as_posix()
