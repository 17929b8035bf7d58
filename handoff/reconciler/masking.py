"""A pass result with every value taken from the revision masked: the one place status, the Source's
status, Events, logs and metrics get it from.

Object names, namespaces, drifted field paths (``data.<key>``), prune reasons, waivers and disabled policy
ids all come from the rendered revision, so any of them may carry a rendered Secret's value (a ConfigMap
named after it). Every field is masked but the few that are not the revision's text (the operator's source
name, the result word, commit ids, an exception class), so a field added later is masked too.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from handoff.manifests.sensitive import KnownValues
from handoff.reconciler.drift import Drift, DriftedField
from handoff.reconciler.status import PassResult
from handoff.report.model import ObjectRef

_NOT_FROM_THE_REVISION = frozenset({"source", "result", "attempted_revision", "applied_revision",
                                    "error_kind"})


def masked_result(result: PassResult, secrets: Mapping[str, str]) -> PassResult:
    """``result`` with each known sensitive value (value -> mask) masked in every text it carries."""
    if not secrets:
        return result
    known = KnownValues(secrets)
    return dataclasses.replace(result, **{
        f.name: _masked(getattr(result, f.name), known)
        for f in dataclasses.fields(result) if f.name not in _NOT_FROM_THE_REVISION})


def masked_text(text: str, secrets: Mapping[str, str]) -> str:
    """``text`` (a message naming the revision's objects) with each known sensitive value masked."""
    return KnownValues(secrets).mask(text) if secrets else text


def _masked(value: Any, known: KnownValues) -> Any:
    if isinstance(value, str):
        return known.mask(value)
    if isinstance(value, ObjectRef):
        return known.mask_ref(value)
    if isinstance(value, Drift):
        return _masked_drift(value, known)
    if isinstance(value, tuple):
        return tuple(_masked(item, known) for item in value)
    if isinstance(value, Mapping):
        return {_masked(k, known): _masked(v, known) for k, v in value.items()}
    return value  # numbers, flags, timestamps


def _masked_drift(drift: Drift, known: KnownValues) -> Drift:
    fields = tuple(DriftedField(path=known.mask(f.path), manager=known.mask(f.manager),
                                live=known.mask(f.live), desired=known.mask(f.desired)) for f in drift.fields)
    return dataclasses.replace(drift, ref=known.mask_ref(drift.ref), fields=fields)


__all__ = ["masked_result", "masked_text"]
