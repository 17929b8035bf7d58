"""The one set of bounds for every YAML text handoff reads, and the one alias-expansion counter.

Sized for real render streams (a ``helm template`` or ``kustomize build`` of a big environment, or
kubeconform's 100,000-document, 30 MB acceptance file) while refusing hostile input: a file over
``max_bytes``, nesting deeper than ``max_depth``, or aliases that make a file expand to more than
``max_nodes`` nodes beyond those written in it (an alias bomb). With the size bound this also bounds
the memory of what every later step (schemas, policies, the cluster) walks.
``HANDOFF_MAX_FILE_BYTES`` overrides the size. docs/validate.md ("YAML limits") documents them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

DEFAULT_MAX_BYTES = 64 * 1024 * 1024
DEFAULT_MAX_DEPTH = 100
DEFAULT_MAX_NODES = 10_000_000


@dataclass(frozen=True)
class Limits:
    """Bounds applied to every YAML file handoff reads. ``HANDOFF_MAX_FILE_BYTES`` overrides the size."""

    max_bytes: int = DEFAULT_MAX_BYTES
    max_depth: int = DEFAULT_MAX_DEPTH
    max_nodes: int = DEFAULT_MAX_NODES

    @classmethod
    def from_env(cls) -> Limits:
        raw = os.environ.get("HANDOFF_MAX_FILE_BYTES", "")
        return cls(max_bytes=int(raw)) if raw.isdigit() else cls()


def read_capped(path: str | os.PathLike[str], limits: Limits) -> bytes | None:
    """The file's bytes, or None when it is bigger than ``limits.max_bytes`` (never read whole, even
    if it grows while read). OSError propagates: each reader words it for its own callers."""
    fd = os.open(path, os.O_RDONLY)
    try:
        size = min(os.fstat(fd).st_size, limits.max_bytes) + 1
        chunks: list[bytes] = []
        while size > 0:
            chunk = os.read(fd, size)
            if not chunk:
                break
            chunks.append(chunk)
            size -= len(chunk)
    finally:
        os.close(fd)
    data = b"".join(chunks)
    return None if len(data) > limits.max_bytes else data


class LimitExceeded(Exception):
    """A bound was crossed at 1-based ``line``; each loader turns it into its own error or finding."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


def too_deep(limits: Limits, line: int) -> LimitExceeded:
    return LimitExceeded(f"nesting deeper than {limits.max_depth} levels", line)


class ExpansionBudget:
    """Counts the nodes aliases add to one file; shared by both loaders.

    Loaders count every node they build in ``built`` and call ``alias(size)`` when an alias repeats
    a node of ``size`` nodes (its expanded size, from the ``built`` difference across it): an alias
    bomb is refused in time linear in its text, never by expanding it. Nodes written in the text
    cost nothing here: ``max_bytes`` bounds them, on the fast path (which never sees an alias) too."""

    __slots__ = ("built", "limits", "remaining")

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.remaining = limits.max_nodes
        self.built = 0

    def alias(self, size: int, line: int) -> None:
        self.built += size
        self.remaining -= size
        if self.remaining < 0:
            raise LimitExceeded(f"aliases add more than {self.limits.max_nodes} nodes (alias bomb?)",
                                line)


# Render output: what one `helm template`/`kustomize build` may write, how many objects and bytes one render
# (an environment, or the paths of one validate) may produce. 16 MiB of YAML costs the reconciler about
# 160 MiB when parsed and planned, which leaves room in its 256Mi limit; docs/SECURITY.md ("Render limits").
DEFAULT_MAX_RENDER_OUTPUT = 16 * 1024 * 1024
DEFAULT_MAX_RENDER_OBJECTS = 10_000
DEFAULT_MAX_RENDER_TOTAL = 16 * 1024 * 1024
RENDER_LIMIT_ENV = {"max_output_bytes": "HANDOFF_MAX_RENDER_OUTPUT_BYTES",
                    "max_objects": "HANDOFF_MAX_RENDER_OBJECTS",
                    "max_total_bytes": "HANDOFF_MAX_RENDER_TOTAL_BYTES"}


@dataclass(frozen=True)
class RenderLimits:
    """Caps on render output: one renderer's stdout, one render's object count and total bytes."""

    max_output_bytes: int = DEFAULT_MAX_RENDER_OUTPUT
    max_objects: int = DEFAULT_MAX_RENDER_OBJECTS
    max_total_bytes: int = DEFAULT_MAX_RENDER_TOTAL

    @classmethod
    def from_env(cls) -> RenderLimits:
        """Defaults, overridden by ``HANDOFF_MAX_RENDER_OUTPUT_BYTES``/``_OBJECTS``/``_TOTAL_BYTES``."""
        raw = {field: os.environ.get(name, "") for field, name in RENDER_LIMIT_ENV.items()}
        return cls(**{field: int(value) for field, value in raw.items() if value.isdigit()})
