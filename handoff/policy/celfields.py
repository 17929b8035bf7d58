"""Which fields of a pod spec a group of CEL policies can read, and the pod spec cut down to them.

The cel binding converts every bound Python value into CEL values, and a workload's pod spec (env,
volumes, args, probes of every container) is most of what it converts: the built-in pack reads a
dozen fields of it. When every use of ``self`` and ``podSpec`` in a policy's expressions is a field
selection (``self.image``, ``podSpec.securityContext``), the expressions cannot tell the whole pod
spec from one holding only those fields (each kept whole), so only those are bound. Any other use
(``self`` alone, ``self[...]``, ``self.?x``, a method called on ``self``, the word inside a string
literal) makes the policy read "everything", and the whole pod spec is bound as before.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

_VARIABLE = re.compile(r"(?<![\w.])(self|podSpec)\b")
_FIELD = re.compile(r"\s*\.\s*([A-Za-z_]\w*)\b(?!\s*\()")


@dataclass(frozen=True)
class FieldsRead:
    """Fields an expression set selects on ``self`` and on ``podSpec``."""

    self_fields: frozenset[str]
    pod_fields: frozenset[str]


def fields_read(expressions: Iterable[str]) -> FieldsRead | None:
    """The fields ``expressions`` select on ``self`` and ``podSpec``, or None when one of them uses
    either in another way (it may read anything)."""
    found: dict[str, set[str]] = {"self": set(), "podSpec": set()}
    for text in expressions:
        for use in _VARIABLE.finditer(text):
            field = _FIELD.match(text, use.end())
            if field is None:
                return None
            found[use.group(1)].add(field.group(1))
    return FieldsRead(frozenset(found["self"]), frozenset(found["podSpec"]))


@dataclass(frozen=True)
class PodSpecCut:
    """The pod spec's own fields to keep whole, and per iterated list the fields of its items."""

    pod: frozenset[str]
    items: Mapping[str, frozenset[str]]


def pod_spec_cut(policies: Sequence[tuple[str, FieldsRead | None]],
                 lists: Mapping[str, tuple[str, ...]]) -> PodSpecCut | None:
    """What a group of ``(foreach, fields read)`` pod-spec policies needs (None: the whole pod spec).
    ``lists`` names the pod spec lists each ``foreach`` iterates (``podSpec`` iterates the spec)."""
    pod: set[str] = set()
    items: dict[str, set[str]] = {}
    for foreach, read in policies:
        if read is None:
            return None
        pod |= read.pod_fields
        if foreach == "podSpec":
            pod |= read.self_fields
            continue
        for name in lists[foreach]:
            items.setdefault(name, set()).update(read.self_fields)
    return PodSpecCut(frozenset(pod), {name: frozenset(fields) for name, fields in items.items()
                                       if name not in pod})


def cut_pod_spec(spec: Any, cut: PodSpecCut | None) -> Any:
    """``spec`` with only what ``cut`` keeps (values whole; anything not a mapping or list as is)."""
    if cut is None or not isinstance(spec, Mapping):
        return spec
    kept = {name: value for name, value in spec.items() if name in cut.pod}
    for name, fields in cut.items.items():
        if name in spec:
            value = spec[name]
            kept[name] = [_only(item, fields) for item in value] if isinstance(value, list) else value
    return kept


def _only(item: Any, fields: frozenset[str]) -> Any:
    return {f: v for f, v in item.items() if f in fields} if isinstance(item, Mapping) else item
