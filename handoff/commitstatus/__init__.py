"""Deployment results on the config repo's commits: an explicit registry of backends behind one
Protocol (``model.StatusBackend``). The reconciler posts through it with a statuses-only token and
never imports ``forge/``; ``handoff wait`` and ``handoff status`` read through it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from handoff.commitstatus.github import GitHubStatuses
from handoff.commitstatus.gitlab import GitLabStatuses
from handoff.commitstatus.local import NOTES_REF, LocalStatuses, NotesStore
from handoff.commitstatus.model import (
    APPLYING,
    DEGRADED,
    FAILED,
    HASHED,
    HEALTHY,
    MAX_CONTEXT,
    STATES,
    WORST_FIRST,
    CommitStatus,
    DeployState,
    StatusBackend,
    fitted,
)
from handoff.commitstatus.signing import read_key
from handoff.errors import UsageError
from handoff.retry import RetryPolicy

__all__ = ["APPLYING", "BACKENDS", "DEGRADED", "FAILED", "HASHED", "HEALTHY", "MAX_CONTEXT", "NOTES_REF",
           "STATES", "WORST_FIRST", "BackendSettings", "CommitStatus", "DeployState", "LocalStatuses",
           "NotesStore", "StatusBackend", "fitted", "make_backend", "read_key"]


@dataclass(frozen=True)
class BackendSettings:
    """How to reach the statuses: ``project`` is ``owner/name`` (GitHub) or the project path or id
    (GitLab); the local backend needs only ``notes``, the notes ref of the config repo's remote."""

    project: str = ""
    token: str | None = None
    base_url: str | None = None
    notes: NotesStore | None = None
    key: bytes | None = None  # local only: the key status entries are signed with (commitstatus.signing)
    retry: RetryPolicy = field(default_factory=RetryPolicy)


def _unsigned(s: BackendSettings, forge: str) -> None:
    if s.key is not None:
        raise UsageError(f"a status key signs local-forge statuses only; {forge} statuses are written "
                         "by the token's owner alone")


def _github(s: BackendSettings) -> StatusBackend:
    _unsigned(s, "GitHub")
    if not s.token or not s.project:
        raise UsageError("GitHub commit statuses need a token and the repository (owner/name)")
    return GitHubStatuses(s.project, s.token, base_url=s.base_url, retry=s.retry)


def _gitlab(s: BackendSettings) -> StatusBackend:
    _unsigned(s, "GitLab")
    if not s.token or not s.project:
        raise UsageError("GitLab commit statuses need a token and the project (group/name or id)")
    return GitLabStatuses(s.project, s.token, base_url=s.base_url, retry=s.retry)


def _local(s: BackendSettings) -> StatusBackend:
    if s.notes is None:
        raise UsageError("local commit statuses need the config repo's git remote")
    return LocalStatuses(s.notes, key=s.key)


BACKENDS: dict[str, Callable[[BackendSettings], StatusBackend]] = {
    "github": _github,
    "gitlab": _gitlab,
    "local": _local,
}


def make_backend(kind: str, settings: BackendSettings) -> StatusBackend:
    factory = BACKENDS.get(kind)
    if factory is None:
        choices = ", ".join(sorted(BACKENDS))
        raise UsageError(f"unknown commit status backend {kind!r}; choose one of {choices}")
    return factory(settings)
