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


def masked_result(result: PassResult, secrets: Mapping[str, str]) -> PassResult:
    """``result`` with each known sensitive value (value -> mask) masked in every text it carries."""
    if not secrets:
        return result
    known = KnownValues(secrets)
    return dataclasses.replace(
        result,
        message=known.mask(result.message),
        pruned=tuple(known.mask_ref(ref) for ref in result.pruned),
        prune_kept=tuple((known.mask_ref(ref), known.mask(why)) for ref, why in result.prune_kept),
        drift=tuple(_masked_drift(d, known) for d in result.drift),
        waivers=tuple(known.mask(w) for w in result.waivers),
    )


def _masked_drift(drift: Drift, known: KnownValues) -> Drift:
    fields = tuple(DriftedField(path=known.mask(f.path), manager=known.mask(f.manager),
                                live=known.mask(f.live), desired=known.mask(f.desired)) for f in drift.fields)
    return dataclasses.replace(drift, ref=known.mask_ref(drift.ref), fields=fields)


__all__ = ["masked_result"]
