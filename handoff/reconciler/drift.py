"""Drift: what a forced server-side apply would change on the live object.

The dry-run result is normalised by the API server (defaults filled in, quantities canonical), so
comparing it with live shows real drift only: ``cpu: 0.5`` vs ``500m`` or an omitted ``replicas`` never
count. Each drifted field names the field manager that owns it now (from ``managedFields``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from handoff.kube.client import FIELD_MANAGER
from handoff.report.model import ObjectRef

_VOLATILE_META = ("managedFields", "resourceVersion", "generation", "uid", "creationTimestamp",
                  "selfLink", "deletionTimestamp", "deletionGracePeriodSeconds")


@dataclass(frozen=True)
class DriftedField:
    path: str
    manager: str  # who owns the live value now ("" when nobody does, e.g. the object is missing)
    live: str
    desired: str


@dataclass(frozen=True)
class Drift:
    ref: ObjectRef
    fields: tuple[DriftedField, ...]
    missing: bool = False
    not_reverted: str = ""  # why a revert was not tried (the name is held by an object not the source's)


def normalised(obj: Mapping[str, Any]) -> dict[str, Any]:
    """``obj`` without status and server-managed metadata (labels and annotations stay)."""
    out = {k: v for k, v in obj.items() if k != "status"}
    meta = dict(out.get("metadata") or {})
    for key in _VOLATILE_META:
        meta.pop(key, None)
    out["metadata"] = meta
    return out


def _differences(desired: Any, live: Any, path: str) -> Iterator[str]:
    if isinstance(desired, Mapping) and isinstance(live, Mapping):
        for key in sorted(set(desired) | set(live), key=str):
            sub = f"{path}.{key}" if path else str(key)
            if key not in live or key not in desired:
                yield sub
            else:
                yield from _differences(desired[key], live[key], sub)
    elif isinstance(desired, list) and isinstance(live, list) and len(desired) == len(live):
        for i, (d, lv) in enumerate(zip(desired, live, strict=True)):
            yield from _differences(d, lv, f"{path}[{i}]")
    elif desired != live:
        yield path


def _lookup(obj: Any, path: str) -> Any:
    for part in _split(path):
        if isinstance(part, int):
            obj = obj[part] if isinstance(obj, list) and part < len(obj) else None
        else:
            obj = obj.get(part) if isinstance(obj, Mapping) else None
    return obj


def _split(path: str) -> list[str | int]:
    parts: list[str | int] = []
    for chunk in path.split("."):
        name, _, rest = chunk.partition("[")
        if name:
            parts.append(name)
        while rest:
            index, _, rest = rest.partition("]")
            parts.append(int(index))
            rest = rest.lstrip("[")
    return parts


def _fields_key_matches(key: str, item: Any, index: int) -> bool:
    if key.startswith("i:"):
        return key == f"i:{index}"
    if key.startswith("k:") and isinstance(item, Mapping):
        try:
            wanted = json.loads(key[2:])
        except ValueError:
            return False
        return all(item.get(k) == v for k, v in wanted.items())
    if key.startswith("v:"):
        try:
            return bool(json.loads(key[2:]) == item)
        except ValueError:
            return False
    return False


def owner_of(live: Mapping[str, Any], path: str) -> str:
    """The manager owning the deepest managed prefix of ``path`` in ``live`` (others before handoff)."""
    best = ("", -1)
    for entry in (live.get("metadata") or {}).get("managedFields") or []:
        depth = _owned_depth(entry.get("fieldsV1") or {}, live, _split(path))
        manager = str(entry.get("manager", ""))
        better = depth > best[1] or (depth == best[1] and best[0] == FIELD_MANAGER)
        if depth >= 0 and better:
            best = (manager, depth)
    return best[0]


def _owned_depth(fields: Mapping[str, Any], live: Any, parts: list[str | int]) -> int:
    node: Any = fields
    value = live
    depth = -1
    for i, part in enumerate(parts):
        if not isinstance(node, Mapping):
            break
        if isinstance(part, int):
            item = value[part] if isinstance(value, list) and part < len(value) else None
            key = next((k for k in node if _fields_key_matches(k, item, part)), None)
            value = item
        else:
            key = f"f:{part}" if f"f:{part}" in node else None
            value = value.get(part) if isinstance(value, Mapping) else None
        if key is None:
            break
        node = node[key]
        depth = i
    return depth


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str) if value is not None else "<absent>"
    return text if len(text) <= 120 else text[:117] + "..."


def _leaf_paths(fields: Mapping[str, Any], prefix: str) -> Iterator[str]:
    for key, sub in fields.items():
        if key == ".":
            continue
        kind, _, name = key.partition(":")
        here = f"{prefix}.{name}" if kind == "f" and prefix else name if kind == "f" else f"{prefix}[{name}]"
        if isinstance(sub, Mapping) and any(k != "." for k in sub):
            yield from _leaf_paths(sub, here)
        else:
            yield here


def foreign_fields(live: Mapping[str, Any], managers: frozenset[str]) -> tuple[DriftedField, ...]:
    """Fields held by kubectl's client-side managers (``kubectl edit``): handoff takes them over."""
    out: list[DriftedField] = []
    for entry in (live.get("metadata") or {}).get("managedFields") or []:
        if entry.get("manager") in managers and entry.get("operation") == "Update" \
                and not entry.get("subresource"):
            out.extend(DriftedField(path=p, manager=str(entry["manager"]), live="", desired="")
                       for p in _leaf_paths(entry.get("fieldsV1") or {}, ""))
    return tuple(out)


def removed_when_finished(desired: Mapping[str, Any], last_seen: Mapping[str, Any] | None = None) -> bool:
    """A Job that sets ``ttlSecondsAfterFinished`` asks the TTL-after-finished controller to delete it once
    it has finished, so its absence at the revision that created it is that deletion, not drift: re-creating
    it would re-run the Job on every drift check. A new revision applies it again. The TTL counts wherever
    it came from: Git (``desired``) or admission (a mutating webhook's default, on ``last_seen``, the live
    copy the reconciler last saw)."""
    if desired.get("kind") != "Job" or not str(desired.get("apiVersion", "")).startswith("batch/"):
        return False
    return any((obj.get("spec") or {}).get("ttlSecondsAfterFinished") is not None
               for obj in (desired, last_seen or {}))


def compare(ref: ObjectRef, desired: Mapping[str, Any], live: Mapping[str, Any] | None,
            foreign_managers: frozenset[str] = frozenset()) -> Drift | None:
    """Drift between the dry-run result ``desired`` and ``live`` (None when they agree)."""
    if live is None:
        return Drift(ref=ref, fields=(), missing=True)
    want, have = normalised(desired), normalised(live)
    fields = tuple(DriftedField(path=p, manager=owner_of(live, p), live=_short(_lookup(have, p)),
                                desired=_short(_lookup(want, p))) for p in _differences(want, have, ""))
    seen = {f.path for f in fields}
    fields += tuple(f for f in foreign_fields(live, foreign_managers) if f.path not in seen)
    return Drift(ref=ref, fields=fields) if fields else None
