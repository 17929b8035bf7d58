"""What a commit changes and how a push went: data that git computes and the forges replay (core, so
neither service needs the other)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FileChange:
    """One file of a commit relative to its parent; ``content`` is None when the file was deleted."""

    path: str
    mode: str
    content: bytes | None


@dataclass(frozen=True)
class PushResult:
    """A push either landed or was rejected (somebody moved the branch): a rejection is a result."""

    ok: bool
    rejected_reason: str = ""
