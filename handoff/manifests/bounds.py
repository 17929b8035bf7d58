"""The one set of bounds for every YAML text handoff reads, and the one alias-expansion counter.

Sized for real render streams (a ``helm template`` or ``kustomize build`` of a big environment, or
kubeconform's 100,000-document, 30 MB acceptance file) while refusing hostile input: a file over
``max_bytes``, nesting deeper than ``max_depth``, or aliases that make a file expand to more than
``max_nodes`` nodes beyond those written in it (an alias bomb). With the size bound this also bounds
the memory of what every later step (schemas, policies, the cluster) walks.
``HANDOFF_MAX_FILE_BYTES`` overrides the size. docs/validate.md ("YAML limits") documents them.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from json.encoder import encode_basestring_ascii
from typing import Any

from handoff.errors import RenderError

DEFAULT_MAX_BYTES = 64 * 1024 * 1024
DEFAULT_MAX_DEPTH = 100
# Aliases may add as many nodes to one file as one render may parse (``DEFAULT_MAX_RENDER_NODES``):
# repo-written config and policy files are read whole into Python data, so it must fit a 256Mi process.
DEFAULT_MAX_NODES = 1_000_000


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


# Render output: what one `helm template`/`kustomize build` may write and how much memory it may use, how
# many objects, bytes and YAML nodes one render (an environment, or the paths of one validate) may produce.
# The byte caps alone do not bound memory: 12.9 MB of one-letter keys is 2M nodes, ~355 MiB parsed. The node
# budget is charged from the text before it is parsed (``charge``): 1M nodes of the densest shapes measured
# (one-letter keys) peak near 115 MiB in handoff. The reconciler and its helm/kustomize child share one 256Mi
# limit (children run with GOMEMLIMIT, see ``toolrun``). Files read outside a render (validate's parallel
# path, kubeconform's 30 MB streams) have only the file ``Limits`` above. docs/SECURITY.md ("Render limits").
# ``HANDOFF_MAX_RENDER_*`` override each.
DEFAULT_MAX_RENDER_OUTPUT = 16 * 1024 * 1024
DEFAULT_MAX_RENDER_OBJECTS = 10_000
DEFAULT_MAX_RENDER_TOTAL = 16 * 1024 * 1024
DEFAULT_MAX_RENDER_NODES = DEFAULT_MAX_NODES
# A renderer child's resident memory (its whole process group, sampled by ``toolrun``), which it shares
# with the reconciler under one 256Mi limit: helm rendering issue 13's 22 MB chart peaks near 130 MiB (and
# fails on the output cap), ordinary charts near 45 MiB; the reconciler waits on it near 60-70 MiB.
DEFAULT_MAX_CHILD_MEMORY = 160 * 1024 * 1024
RENDER_LIMIT_ENV = {"max_output_bytes": "HANDOFF_MAX_RENDER_OUTPUT_BYTES",
                    "max_objects": "HANDOFF_MAX_RENDER_OBJECTS",
                    "max_total_bytes": "HANDOFF_MAX_RENDER_TOTAL_BYTES",
                    "max_nodes": "HANDOFF_MAX_RENDER_NODES",
                    "max_child_memory": "HANDOFF_MAX_CHILD_MEMORY"}


@dataclass(frozen=True)
class RenderLimits:
    """Caps on a render: one renderer's stdout and resident memory (bytes), one render's object count,
    total bytes and YAML nodes."""

    max_output_bytes: int = DEFAULT_MAX_RENDER_OUTPUT
    max_objects: int = DEFAULT_MAX_RENDER_OBJECTS
    max_total_bytes: int = DEFAULT_MAX_RENDER_TOTAL
    max_nodes: int = DEFAULT_MAX_RENDER_NODES
    max_child_memory: int = DEFAULT_MAX_CHILD_MEMORY

    @classmethod
    def from_env(cls) -> RenderLimits:
        """Defaults, overridden by the ``HANDOFF_MAX_RENDER_*`` variables of ``RENDER_LIMIT_ENV``."""
        raw = {field: os.environ.get(name, "") for field, name in RENDER_LIMIT_ENV.items()}
        return cls(**{field: int(value) for field, value in raw.items() if value.isdigit()})


def written_nodes(text: str) -> int:
    """An upper bound on the YAML nodes ``text`` writes, from substring counts (no parse): every scalar
    starts a line or follows ``:``, ``,``, ``- ``, ``[`` or ``{``, and every collection holds one of
    those or is a flow ``[]``/``{}``. Colons and commas inside strings make it overcount, never under.
    Aliases add nodes the text does not write: the expansion budget counts those."""
    indicators = text.count(":") + text.count("- ") + text.count("[") + text.count("{")
    return text.count("\n") + 1 + text.count(",") + 2 * indicators


class NodeBudget:
    """The YAML nodes one render may still parse: every text is charged before it is parsed."""

    __slots__ = ("limit", "remaining")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.remaining = limit

    def charge(self, text: str, file: str) -> None:
        self.remaining -= written_nodes(text)
        if self.remaining < 0:
            raise RenderError(f"render over the {self.limit}-node YAML budget at {file} (a dense or huge "
                               "manifest; --max-render-nodes, HANDOFF_MAX_RENDER_NODES or the reconciler's "
                               "render.maxNodes)")


_BUDGET: ContextVar[NodeBudget | None] = ContextVar("handoff_node_budget", default=None)


@contextlib.contextmanager
def node_budget(limit: int) -> Iterator[NodeBudget]:
    """Charge every text parsed in the block to one budget of ``limit`` nodes; inside an active budget
    (``render_paths`` rendering each path) the outer one keeps counting."""
    active = _BUDGET.get()
    if active is not None:
        yield active
        return
    budget = NodeBudget(limit)
    token = _BUDGET.set(budget)
    try:
        yield budget
    finally:
        _BUDGET.reset(token)


def charge(text: str, file: str) -> NodeBudget | None:
    """Charge ``text`` (about to be parsed) to the active render's budget, if any, and return it; past
    the budget this is a RenderError naming ``file``."""
    budget = _BUDGET.get()
    if budget is not None:
        budget.charge(text, file)
    return budget


def compact_json_size(data: Any, stop_after: int) -> int:
    """The length of ``json.dumps(data, separators=(",", ":"), default=str)``, counted without building it
    and given up once past ``stop_after`` (aliases make data far bigger than its text: a 1 KB string
    aliased 100,000 times is 100 MB of JSON)."""
    total = 0
    stack: list[Any] = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            total += 2 * len(node) + 1 if node else 2  # braces, colons and commas
            for key, value in node.items():
                total += _scalar_size(key if isinstance(key, str) else str(key))
                stack.append(value)
        elif isinstance(node, list | tuple):
            total += len(node) + 1 if node else 2
            stack.extend(node)
        else:
            total += _scalar_size(node)
        if total > stop_after:
            break
    return total


def _scalar_size(value: Any) -> int:
    if isinstance(value, str):
        return len(encode_basestring_ascii(value))
    if value is None or value is True:
        return 4
    if value is False:
        return 5
    if isinstance(value, int):
        return len(int.__repr__(value))
    if isinstance(value, float):
        return len(json.dumps(value))
    return len(encode_basestring_ascii(str(value)))
