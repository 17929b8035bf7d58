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
from dataclasses import dataclass, field
from typing import Any

_VARIABLE = re.compile(r"(?<![\w.])(self|podSpec)\b")
_FIELD = re.compile(r"\s*\.\s*([A-Za-z_]\w*)\b(?!\s*\()")
# a selection on self that only tests presence: has(self.livenessProbe)
_HAS_SELF_FIELD = re.compile(r"(?<![\w.])has\(\s*self\s*\.\s*([A-Za-z_]\w*)\s*\)")


@dataclass(frozen=True)
class FieldsRead:
    """Fields an expression set selects on ``self`` and on ``podSpec``; ``presence_only``: the fields of
    ``self`` it selects only as ``has(self.field)`` (their values cannot change a result)."""

    self_fields: frozenset[str]
    pod_fields: frozenset[str]
    presence_only: frozenset[str] = frozenset()


def fields_read(expressions: Iterable[str]) -> FieldsRead | None:
    """The fields ``expressions`` select on ``self`` and ``podSpec``, or None when one of them uses
    either in another way (it may read anything)."""
    found: dict[str, set[str]] = {"self": set(), "podSpec": set()}
    uses: dict[str, int] = {}
    tests: dict[str, int] = {}
    for text in expressions:
        for use in _VARIABLE.finditer(text):
            selected = _FIELD.match(text, use.end())
            if selected is None:
                return None
            found[use.group(1)].add(selected.group(1))
            if use.group(1) == "self":
                uses[selected.group(1)] = uses.get(selected.group(1), 0) + 1
        for test in _HAS_SELF_FIELD.finditer(text):
            tests[test.group(1)] = tests.get(test.group(1), 0) + 1
    presence = frozenset(name for name, count in tests.items() if uses.get(name) == count)
    return FieldsRead(frozenset(found["self"]), frozenset(found["podSpec"]), presence)


@dataclass(frozen=True)
class PodSpecCut:
    """The pod spec's own fields to keep whole, and per iterated list the fields of its items; of
    those, ``presence`` per list: the fields only tested for presence, kept as an empty mapping or list
    (converting a probe's whole value for ``has(self.livenessProbe)`` costs and changes nothing)."""

    pod: frozenset[str]
    items: Mapping[str, frozenset[str]]
    presence: Mapping[str, frozenset[str]] = field(default_factory=dict)


def pod_spec_cut(policies: Sequence[tuple[str, FieldsRead | None]],
                 lists: Mapping[str, tuple[str, ...]]) -> PodSpecCut | None:
    """What a group of ``(foreach, fields read)`` pod-spec policies needs (None: the whole pod spec).
    ``lists`` names the pod spec lists each ``foreach`` iterates (``podSpec`` iterates the spec)."""
    pod: set[str] = set()
    items: dict[str, set[str]] = {}
    valued: dict[str, set[str]] = {}  # per list, the fields some policy reads the value of
    for foreach, read in policies:
        if read is None:
            return None
        pod |= read.pod_fields
        if foreach == "podSpec":
            pod |= read.self_fields
            continue
        for name in lists[foreach]:
            items.setdefault(name, set()).update(read.self_fields)
            valued.setdefault(name, set()).update(read.self_fields - read.presence_only)
    kept = {name: fields for name, fields in items.items() if name not in pod}
    return PodSpecCut(frozenset(pod), {name: frozenset(fields) for name, fields in kept.items()},
                      {name: frozenset(fields - valued[name]) for name, fields in kept.items()
                       if fields - valued[name]})


def cut_pod_spec(spec: Any, cut: PodSpecCut | None) -> Any:
    """``spec`` with only what ``cut`` keeps (values whole, or emptied when only their presence is
    tested; anything not a mapping or list as is)."""
    if cut is None or not isinstance(spec, Mapping):
        return spec
    kept = {name: value for name, value in spec.items() if name in cut.pod}
    for name, fields in cut.items.items():
        if name in spec:
            value, presence = spec[name], cut.presence.get(name, frozenset())
            kept[name] = [_only(i, fields, presence) for i in value] if isinstance(value, list) else value
    return kept


def _only(item: Any, fields: frozenset[str], presence: frozenset[str]) -> Any:
    if not isinstance(item, Mapping):
        return item
    return {f: _emptied(v) if f in presence else v for f, v in item.items() if f in fields}


def _emptied(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {}
    return [] if isinstance(value, list) else value


_OBJECT = re.compile(r"(?<![\w.])object\b")
_CHAIN = re.compile(r"(?:\s*\.\s*[A-Za-z_]\w*\b(?!\s*\())+")
_CHAIN_FIELD = re.compile(r"[A-Za-z_]\w*")
_HAS_OBJECT = re.compile(r"(?<![\w.])has\(\s*(object(?:\s*\.\s*[A-Za-z_]\w*)+)\s*\)")


@dataclass(frozen=True)
class ObjectRead:
    """The field chains an expression set selects on ``object`` (``object.metadata.annotations``):
    ``values``, whose value it reads, and ``presence``, that it only tests with ``has()``."""

    values: frozenset[tuple[str, ...]]
    presence: frozenset[tuple[str, ...]]


def object_read(expressions: Iterable[str]) -> ObjectRead | None:
    """The chains ``expressions`` select on ``object``, or None when one uses ``object`` otherwise
    (alone, indexed, a method called on it: it may read anything)."""
    values: set[tuple[str, ...]] = set()
    presence: set[tuple[str, ...]] = set()
    for text in expressions:
        tested = {m.start(1): m.end(1) for m in _HAS_OBJECT.finditer(text)}
        for use in _OBJECT.finditer(text):
            chain = _CHAIN.match(text, use.end())
            if chain is None:
                return None
            fields = tuple(_CHAIN_FIELD.findall(chain.group()))
            (presence if tested.get(use.start()) == chain.end() else values).add(fields)
    return ObjectRead(frozenset(values), frozenset(presence))


def cut_object(obj: Any, read: ObjectRead) -> Any:
    """``obj`` with only the chains ``read`` names: a value chain's last field whole, a presence
    chain's last field emptied (``has()`` sees the key either way); every field on the way kept as a
    mapping of just those chains, and anything not a mapping kept as it is, so an expression
    selecting into it fails as it would on the whole object."""
    return _cut_chains(obj, read.values, read.presence)


def _cut_chains(node: Any, values: frozenset[tuple[str, ...]] | set[tuple[str, ...]],
                presence: frozenset[tuple[str, ...]] | set[tuple[str, ...]]) -> Any:
    if not isinstance(node, Mapping) or () in values:
        return node
    wanted = {chain[0] for chain in (*values, *presence) if chain}
    kept: dict[str, Any] = {}
    for key, child in node.items():  # in the object's own order
        if key not in wanted:
            continue
        below_values = {chain[1:] for chain in values if chain and chain[0] == key}
        below_presence = {chain[1:] for chain in presence if chain and chain[0] == key} - {()}
        if () in below_values:
            kept[key] = child
        elif below_values or below_presence:
            kept[key] = _cut_chains(child, below_values, below_presence)
        else:
            kept[key] = _emptied(child)
    return kept
