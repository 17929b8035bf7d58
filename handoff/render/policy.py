"""What the operator allows a render: output caps and the pinned remotes it may fetch.

Set by the operator only (a CLI flag or the environment of the CI job, the reconciler's own config per
source), never by the repository being rendered. ``with render_policy(policy):`` applies one to every
render in the block; outside one, :func:`current` is the defaults with the ``HANDOFF_*`` overrides.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field

from handoff.errors import UsageError
from handoff.manifests.bounds import RenderLimits

ALLOW_REMOTE_ENV = "HANDOFF_ALLOW_REMOTE"
CAP_HINT = ("--max-render-output-bytes, HANDOFF_MAX_RENDER_OUTPUT_BYTES or the reconciler's "
            "render.maxOutputBytes")
MEMORY_HINT = "--max-child-memory, HANDOFF_MAX_CHILD_MEMORY or the reconciler's render.maxChildMemory"
_PINNED = re.compile(r"[?&]ref=[0-9a-f]{40}(&|$)|@sha256:[0-9a-f]{64}$")


def pinned(url: str) -> bool:
    """A remote pinned to one content: ``…?ref=<40-hex commit>`` or ``…@sha256:<digest>``."""
    return _PINNED.search(url) is not None


def checked_remotes(urls: Iterable[str], *, source: str) -> frozenset[str]:
    """The allow-list, every entry pinned; ``source`` names where it came from for the error."""
    allowed = frozenset(u.strip() for u in urls if u.strip())
    for url in sorted(allowed):
        if not pinned(url):
            raise UsageError(f"{source}: remote {url!r} is not pinned (add ?ref=<40-hex commit> or "
                             "@sha256:<digest>)")
    return allowed


@dataclass(frozen=True)
class RenderPolicy:
    limits: RenderLimits = field(default_factory=RenderLimits)
    allowed_remotes: frozenset[str] = frozenset()

    @classmethod
    def from_env(cls) -> RenderPolicy:
        raw = os.environ.get(ALLOW_REMOTE_ENV, "").replace(",", " ").split()
        allowed = checked_remotes(raw, source=ALLOW_REMOTE_ENV)
        return cls(limits=RenderLimits.from_env(), allowed_remotes=allowed)


_CURRENT: ContextVar[RenderPolicy | None] = ContextVar("handoff_render_policy", default=None)


def current() -> RenderPolicy:
    return _CURRENT.get() or RenderPolicy.from_env()


@contextlib.contextmanager
def render_policy(policy: RenderPolicy) -> Iterator[RenderPolicy]:
    token = _CURRENT.set(policy)
    try:
        yield policy
    finally:
        _CURRENT.reset(token)
