"""Deployment results on a config-repo commit: the four states the reconciler reports, the status as
read back, and the one Protocol the GitHub, GitLab and local backends implement."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, Protocol

DeployState = Literal["applying", "healthy", "degraded", "failed"]
APPLYING: DeployState = "applying"
HEALTHY: DeployState = "healthy"
DEGRADED: DeployState = "degraded"
FAILED: DeployState = "failed"
STATES: tuple[DeployState, ...] = (APPLYING, HEALTHY, DEGRADED, FAILED)
# which state wins when several statuses speak for one environment (sources, shards)
WORST_FIRST: tuple[DeployState, ...] = (FAILED, DEGRADED, APPLYING, HEALTHY)
# a forge shows at most this much of a description (GitHub truncates at 140 characters)
MAX_DESCRIPTION = 140
# GitHub refuses a longer context (422 "context is too long"), GitLab a longer name (its column's size)
MAX_CONTEXT = 255
HASHED = 13  # what fitted() appends: "~" and 12 hex digits of the whole text's SHA-256


@dataclass(frozen=True)
class CommitStatus:
    """One context's latest status on a commit, in handoff's terms whatever the forge calls it."""

    context: str
    state: DeployState
    description: str = ""
    target_url: str = ""
    updated_at: str = ""

    @property
    def done(self) -> bool:
        """A state ``handoff wait`` stops on: healthy, degraded or failed."""
        return self.state != APPLYING


class StatusBackend(Protocol):
    """Where commit statuses live: GitHub's statuses API, GitLab's commit status API, or a git notes ref."""

    name: str

    @property
    def calls(self) -> int:
        """API requests (or git network round trips) made so far: a metric and a bench number."""
        ...

    def post(self, commit: str, context: str, state: DeployState, description: str,
             target_url: str = "") -> None:
        """Set ``context``'s status on ``commit``."""
        ...

    def read(self, commit: str) -> Mapping[str, CommitStatus]:
        """The latest status of each context on ``commit`` (none when it has none)."""
        ...


def described(state: DeployState, description: str) -> str:
    """The description a forge shows: the state first (forges have fewer states than handoff: GitHub
    calls degraded and failed both ``failure``, so the word is how they are told apart on read), cut
    to what the forge displays."""
    text = f"{state}: {description}" if description else state
    text = " ".join(text.split())
    return text if len(text) <= MAX_DESCRIPTION else text[: MAX_DESCRIPTION - 1] + "…"


def state_from(description: str, fallback: DeployState) -> DeployState:
    """The handoff state a description written by :func:`described` starts with, else ``fallback``."""
    word = description.split(":", 1)[0].strip()
    return next((s for s in STATES if s == word), fallback)


def fitted(text: str, limit: int = MAX_CONTEXT) -> str:
    """``text``, or cut to ``limit`` (at least ``HASHED``) characters ending in ``~`` and a hash of the
    whole ``text``: the same text always gives the same cut (the reconciler posts it, readers compute it),
    and two long texts sharing a prefix still differ."""
    if len(text) <= limit:
        return text
    digest = hashlib.sha256(text.encode()).hexdigest()[: HASHED - 1]
    return f"{text[: limit - HASHED]}~{digest}"
