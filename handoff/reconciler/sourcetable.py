"""``handoff get sources``: the ``handoff.dev/v1`` Source objects' sync state as rows, a table or JSON,
read from their ``status`` (``conditions[type=Ready]``, ``lastAppliedRevision``)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from handoff.errors import ReconcileError
from handoff.kube.client import KubeClient, KubeError
from handoff.reconciler.status import printable

SOURCE_API_VERSION = "handoff.dev/v1"
SOURCE_KIND = "Source"
COLUMNS = ("NAMESPACE", "NAME", "READY", "REVISION", "AGE", "MESSAGE")
_COLOURS = {"True": "\x1b[32m", "False": "\x1b[31m", "Unknown": "\x1b[33m"}  # green, red, yellow
_RESET = "\x1b[0m"


class SourcesUnavailable(ReconcileError):
    """The cluster has no Source kind (the CRD is not installed)."""


@dataclass(frozen=True)
class SourceRow:
    namespace: str
    name: str
    ready: str  # True, False or Unknown
    reason: str
    revision: str  # the last applied revision
    created: str  # metadata.creationTimestamp (RFC 3339)
    message: str


def _ready_condition(status: Mapping[str, Any]) -> Mapping[str, Any]:
    for condition in status.get("conditions") or []:
        if isinstance(condition, Mapping) and condition.get("type") == "Ready":
            return condition
    return {}


def _cell(value: object) -> str:
    """One line of text a terminal only displays: whoever can write a Source's status (not only this
    reconciler) could put control sequences in it."""
    return " ".join(printable(str(value or "")).split())


def row_of(obj: Mapping[str, Any]) -> SourceRow:
    meta, status = obj.get("metadata") or {}, obj.get("status") or {}
    ready = _ready_condition(status)
    state = str(ready.get("status") or "Unknown")
    return SourceRow(namespace=_cell(meta.get("namespace")), name=_cell(meta.get("name")),
                     ready=state if state in _COLOURS else "Unknown", reason=_cell(ready.get("reason")),
                     revision=_cell(status.get("lastAppliedRevision")),
                     created=_cell(meta.get("creationTimestamp")),
                     message=_cell(ready.get("message")))


def list_sources(client: KubeClient, namespace: str = "") -> list[SourceRow]:
    """Every Source in ``namespace`` (all namespaces when empty), sorted by namespace and name."""
    try:
        rows = [row_of(o) for o in client.list(SOURCE_API_VERSION, SOURCE_KIND, namespace=namespace)]
    except KubeError as e:
        if e.status == 404:
            raise SourcesUnavailable(
                f"the cluster serves no {SOURCE_KIND} kind in {SOURCE_API_VERSION}; install it with: "
                "handoff reconciler manifests | kubectl apply -f -") from e
        raise
    return sorted(rows, key=lambda r: (r.namespace, r.name))


def age(created: str, now: datetime) -> str:
    """kubectl's short age: 45s, 3m20s, 2h, 3d4h, 120d."""
    try:
        then = datetime.fromisoformat(created.replace("Z", "+00:00"))
    except ValueError:
        return "<unknown>"
    seconds = max(int((now - then).total_seconds()), 0)
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if seconds < 120:
        return f"{seconds}s"
    if minutes < 10:
        return f"{minutes}m{seconds % 60}s" if seconds % 60 else f"{minutes}m"
    if hours < 3:
        return f"{minutes}m"
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if days < 2:
        return f"{hours}h"
    if days < 8:
        return f"{days}d{hours % 24}h" if hours % 24 else f"{days}d"
    return f"{days}d"


def table(rows: Iterable[SourceRow], *, colour: bool, now: datetime | None = None) -> str:
    """Aligned columns, READY coloured by state when ``colour``; the revision shortened to 12 characters."""
    when = now or datetime.now(UTC)
    cells = [COLUMNS, *((r.namespace, r.name, r.ready, r.revision[:12], age(r.created, when), r.message)
                        for r in rows)]
    widths = [max(len(c[i]) for c in cells) for i in range(len(COLUMNS) - 1)]
    lines = []
    for n, cell in enumerate(cells):
        padded = [value.ljust(width) for value, width in zip(cell, widths, strict=False)]
        if colour and n > 0:
            padded[2] = f"{_COLOURS[cell[2]]}{padded[2]}{_RESET}"  # padded first: colour codes take no width
        lines.append("   ".join([*padded, cell[-1]]).rstrip())
    return "\n".join(lines) + "\n"


def to_json(rows: Iterable[SourceRow]) -> str:
    return json.dumps([asdict(r) for r in rows], indent=2) + "\n"
