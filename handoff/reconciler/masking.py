"""A pass result with every value taken from the revision masked: the one place status, the Source's
status, Events, logs and metrics get it from.

Object names, namespaces, drifted field paths (``data.<key>``), prune reasons and waivers all come from
the rendered revision, so any of them may carry a rendered Secret's value (a ConfigMap named after it).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from handoff.manifests.sensitive import KnownValues
from handoff.reconciler.drift import Drift, DriftedField
from handoff.reconciler.status import PassResult
from handoff.report.model import ObjectRef


def masked_result(result: PassResult, secrets: Mapping[str, str]) -> PassResult:
    """``result`` with each known sensitive value (value -> mask) masked in every text it carries."""
    if not secrets:
        return result
    known = KnownValues(secrets)
    return dataclasses.replace(
        result,
        message=known.mask(result.message),
        pruned=tuple(masked_ref(ref, known) for ref in result.pruned),
        prune_kept=tuple((masked_ref(ref, known), known.mask(why)) for ref, why in result.prune_kept),
        drift=tuple(_masked_drift(d, known) for d in result.drift),
        waivers=tuple(known.mask(w) for w in result.waivers),
    )


def masked_ref(ref: ObjectRef, known: KnownValues) -> ObjectRef:
    return ObjectRef(ref.api_version, ref.kind, known.mask(ref.name), known.mask(ref.namespace))


def _masked_drift(drift: Drift, known: KnownValues) -> Drift:
    fields = tuple(DriftedField(path=known.mask(f.path), manager=known.mask(f.manager),
                                live=known.mask(f.live), desired=known.mask(f.desired)) for f in drift.fields)
    return dataclasses.replace(drift, ref=masked_ref(drift.ref, known), fields=fields)


__all__ = ["masked_ref", "masked_result"]
