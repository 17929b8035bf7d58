"""Resolve config-declared paths inside the config repository, refusing ``..`` and symlink escapes."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from handoff.errors import PathEscapeError


def resolve_inside(repo: Path, relative: str, *, source: str | None = None, line: int | None = None,
                   key: str | None = None) -> Path:
    """Return the real path of ``relative`` under ``repo``.

    Refused: absolute paths, any ``..`` component, and paths whose symlinks resolve outside ``repo``.
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
    if candidate != root and root not in candidate.parents:
        raise PathEscapeError(f"path {relative!r} resolves outside the config repository (symlink)",
                              file=source, line=line, key=key)
    return candidate


def relative_name(repo: Path, path: Path) -> str:
    """``path`` relative to ``repo`` in POSIX form, for messages and diffs."""
    try:
        return path.resolve().relative_to(repo.resolve()).as_posix()
    except ValueError:
        return path.as_posix()
