"""What a pass did, written where people look: a size-bounded status ConfigMap per source and Events."""

from __future__ import annotations

import datetime
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from handoff.kube.client import KubeClient
from handoff.manifests.sensitive import BUILTIN_FIELDS, SensitiveField, mask, path_is_sensitive
from handoff.reconciler.drift import Drift
from handoff.reconciler.objects import owner_value
from handoff.redact import redact
from handoff.report.model import ObjectRef

STATUS_PREFIX = "handoff-status-"
MAX_LIST = 20
MAX_FIELDS = 5
MAX_MESSAGE = 1000
MAX_BYTES = 32 * 1024

SUCCEEDED, FAILED, REFUSED = "Succeeded", "Failed", "Refused"
HEARTBEAT = 60.0  # seconds: an unchanged status ConfigMap is rewritten this often (its lastAttemptTime)
_TIMES = frozenset({"lastAttemptTime", "lastSuccessTime"})
_KEPT = frozenset("\t\n")  # the only non-printables a message keeps as they are


@dataclass(frozen=True)
class PassResult:
    source: str
    result: str
    message: str = ""
    attempted_revision: str = ""
    applied_revision: str = ""
    applied: int = 0
    objects: int = 0
    pruned: tuple[ObjectRef, ...] = ()
    prune_kept: tuple[tuple[ObjectRef, str], ...] = ()
    drift: tuple[Drift, ...] = ()
    drift_reverted: bool = False
    health: Mapping[str, int] = field(default_factory=dict)
    error_kind: str = ""
    waivers: tuple[str, ...] = ()  # every policy waiver the revision used
    disabled_policies: tuple[str, ...] = ()  # what its .handoff.yaml switched off ("builtin", policy ids)
    duration: float = 0.0
    finished: float = field(default_factory=time.time)

    @property
    def ok(self) -> bool:
        return self.result == SUCCEEDED


def now_rfc3339(ts: float | None = None) -> str:
    when = datetime.datetime.fromtimestamp(ts if ts is not None else time.time(), tz=datetime.UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _escape(ch: str) -> str:
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def printable(text: str) -> str:
    """``text`` with every character a terminal would act on or hide written as a visible escape
    (``\\x1b``, ``\\u202e``): C0/C1 controls and DEL, and what ``str.isprintable`` refuses beyond them,
    the Unicode format characters (bidi overrides and isolates that reorder the rest of the line,
    zero-width ones), line and paragraph separators, unassigned code points. Tab and newline are kept.
    Messages quote tenant-controlled text (object names, API server answers), and they end up on
    terminals (``kubectl describe``, ``handoff get sources``)."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() or ch in _KEPT else _escape(ch) for ch in text)


def clip(text: str, limit: int = MAX_MESSAGE) -> str:
    """A message fit to store and print: redacted, without terminal control characters, bounded."""
    text = printable(redact(text))
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _shown(ref: ObjectRef, path: str, value: str, rules: Sequence[SensitiveField]) -> str:
    """A drifted value as the status may show it: a sensitive one as its mask."""
    if not path_is_sensitive(ref.kind, path, rules):
        return value
    return mask({"kind": ref.kind, "metadata": {"name": ref.name, "namespace": ref.namespace}}, path, value)


def drift_summary(drift: tuple[Drift, ...],
                  rules: Sequence[SensitiveField] = BUILTIN_FIELDS) -> list[dict[str, Any]]:
    out = []
    for d in drift[:MAX_LIST]:
        entry: dict[str, Any] = {"object": str(d.ref)}
        if d.missing:
            entry["missing"] = True
        if d.not_reverted:
            entry["notReverted"] = d.not_reverted
        entry["fields"] = [{"path": f.path, "manager": f.manager,
                            "live": _shown(d.ref, f.path, f.live, rules),
                            "desired": _shown(d.ref, f.path, f.desired, rules)}
                           for f in d.fields[:MAX_FIELDS]]
        if len(d.fields) > MAX_FIELDS:
            entry["moreFields"] = len(d.fields) - MAX_FIELDS
        out.append(entry)
    return out


def status_data(r: PassResult, previous: Mapping[str, str] | None = None,
                rules: Sequence[SensitiveField] = BUILTIN_FIELDS) -> dict[str, str]:
    """The status ConfigMap's data, never larger than MAX_BYTES; drifted sensitive values masked."""
    prev = previous or {}
    data = {
        "result": r.result,
        "message": clip(r.message),
        "lastAttemptedRevision": r.attempted_revision,
        "lastAppliedRevision": r.applied_revision,
        "lastAttemptTime": now_rfc3339(r.finished),
        "lastSuccessTime": now_rfc3339(r.finished) if r.ok else prev.get("lastSuccessTime", ""),
        "counts": json.dumps({"objects": r.objects, "applied": r.applied, "pruned": len(r.pruned),
                              "drifted": len(r.drift), **dict(r.health)}, sort_keys=True),
        "drift": json.dumps({"reverted": r.drift_reverted, "objects": drift_summary(r.drift, rules),
                             "more": max(0, len(r.drift) - MAX_LIST)}),
        "prune": json.dumps({"deleted": [str(x) for x in r.pruned[:MAX_LIST]],
                             "kept": [f"{x}: {why}" for x, why in r.prune_kept[:MAX_LIST]],
                             "more": max(0, len(r.pruned) + len(r.prune_kept) - 2 * MAX_LIST)}),
        "policy": json.dumps({"waivers": list(r.waivers[:MAX_LIST]), "disabled": list(r.disabled_policies),
                              "more": max(0, len(r.waivers) - MAX_LIST)}),
    }
    while sum(len(v) for v in data.values()) > MAX_BYTES:
        key = max(("drift", "prune", "message", "policy"), key=lambda k: len(data[k]))
        data[key] = clip(data[key], len(data[key]) // 2)
    return data


def status_name(source: str) -> str:
    return STATUS_PREFIX + owner_value(source)


def read(client: KubeClient, namespace: str, source: str) -> dict[str, str]:
    cm = client.get("v1", "ConfigMap", status_name(source), namespace)
    return {str(k): str(v) for k, v in ((cm or {}).get("data") or {}).items()}


def write(client: KubeClient, namespace: str, r: PassResult,
          rules: Sequence[SensitiveField] = BUILTIN_FIELDS) -> dict[str, str]:
    data = status_data(r, read(client, namespace, r.source), rules)
    _apply(client, namespace, r.source, data)
    return data


def _apply(client: KubeClient, namespace: str, source: str, data: Mapping[str, str]) -> None:
    client.apply({"apiVersion": "v1", "kind": "ConfigMap",
                  "metadata": {"name": status_name(source), "namespace": namespace,
                               "labels": {"app.kubernetes.io/managed-by": "handoff"}},
                  "data": dict(data)})


def _sans_times(data: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in data.items() if k not in _TIMES}


class StatusWriter:
    """Writes each source's status ConfigMap when what it says changed, or when the copy in the cluster
    is :data:`HEARTBEAT` seconds old: a steady loop over 500 sources makes no status writes per pass
    (only ``lastAttemptTime`` would change) and no reads (the last written data is kept here)."""

    def __init__(self) -> None:
        self._written: dict[str, tuple[dict[str, str], float]] = {}

    def write(self, client: KubeClient, namespace: str, r: PassResult,
              rules: Sequence[SensitiveField] = BUILTIN_FIELDS) -> dict[str, str]:
        known = self._written.get(r.source)
        data = status_data(r, known[0] if known else read(client, namespace, r.source), rules)
        if known and _sans_times(known[0]) == _sans_times(data) and time.monotonic() - known[1] < HEARTBEAT:
            return known[0]
        _apply(client, namespace, r.source, data)
        self._written[r.source] = (data, time.monotonic())
        return data

    def forget(self, source: str) -> None:
        """``source`` is no longer served (its ConfigMap may be deleted): read it again if it comes back."""
        self._written.pop(source, None)


def event(client: KubeClient, namespace: str, about: ObjectRef, reason: str, message: str, *,
          warning: bool = False) -> None:
    """Record a Kubernetes Event on ``about`` (events for cluster-scoped objects go to ``namespace``)."""
    stamp = now_rfc3339()
    ns = about.namespace or namespace
    client.create({
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": f"{about.name}.{time.time_ns():x}"[:253], "namespace": ns},
        "involvedObject": {"apiVersion": about.api_version, "kind": about.kind, "name": about.name,
                           "namespace": about.namespace},
        "reason": reason, "message": clip(message), "type": "Warning" if warning else "Normal",
        "source": {"component": "handoff-reconciler"}, "reportingComponent": "handoff-reconciler",
        "firstTimestamp": stamp, "lastTimestamp": stamp, "count": 1,
    })
