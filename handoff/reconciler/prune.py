"""Prune safely: delete only what the last inventory lists, the new render lacks, and the owner label
still claims; refuse mass deletions; never Namespaces or CRDs unless allowed; reverse apply order.

Never blind: an object another source desires is kept (moved), and while another source's desired objects
cannot be known (its fetch or render fails, it never rendered), the deletion of anything that source could
have taken over is deferred: kept in the inventory, named in status, tried again at a later revision."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass

from handoff.kube.client import KubeClient, KubeError
from handoff.reconciler.config import PruneSettings
from handoff.reconciler.objects import (
    OWNER_LABEL,
    ObjectKey,
    key_of,
    owned_by,
    owner_value,
    rank,
    unique_by_key,
)
from handoff.report.model import ObjectRef

_PROTECTED = {"Namespace": "allow_namespaces", "CustomResourceDefinition": "allow_crds"}


@dataclass(frozen=True)
class UnknownSource:
    """Another source whose desired objects are not known now: it may have taken over any object
    ``covers`` (its grant) admits."""

    name: str
    reason: str  # why it is not known, e.g. "its revision abc123 does not render"
    covers: Callable[[ObjectRef], bool]


@dataclass(frozen=True)
class PrunePlan:
    delete: tuple[ObjectRef, ...] = ()
    kept: tuple[tuple[ObjectRef, str], ...] = ()  # candidates not deleted, with the reason
    refused: str = ""  # non-empty: the whole prune step is refused
    deferred: tuple[ObjectRef, ...] = ()  # kept (also in ``kept``) and to stay in the inventory


@dataclass(frozen=True)
class PruneResult:
    deleted: tuple[ObjectRef, ...] = ()
    kept: tuple[tuple[ObjectRef, str], ...] = ()
    refused: str = ""
    deferred: tuple[ObjectRef, ...] = ()


def plan(previous: Collection[ObjectRef], current: Collection[ObjectRef],
         settings: PruneSettings, protected: Collection[ObjectRef] = (), *,
         claimed: Mapping[ObjectKey, str] | None = None,
         unknown: Sequence[UnknownSource] = ()) -> PrunePlan:
    """The deletions a pass may make, before looking at the cluster. Objects are compared by group, kind,
    namespace and name: one whose ``apiVersion`` changed is still rendered, never a candidate.
    ``claimed``: objects another source desires (by key, with its name), moved there: never deleted.
    ``unknown``: other sources not known now; what one of them could hold is deferred, not deleted."""
    claimed = claimed or {}
    now = {key_of(r) for r in current}
    previous = unique_by_key(previous)
    candidates = [r for r in previous if key_of(r) not in now]
    off_limits = {key_of(r) for r in protected}
    delete: list[ObjectRef] = []
    kept: list[tuple[ObjectRef, str]] = []
    deferred: list[ObjectRef] = []
    for ref in candidates:
        other = next((u for u in unknown if u.covers(ref)), None)
        flag = _PROTECTED.get(ref.kind)
        if key_of(ref) in off_limits:
            kept.append((ref, "the reconciler's own object: never pruned"))
        elif key_of(ref) in claimed:
            kept.append((ref, f"desired by source {claimed[key_of(ref)]}: moved, not pruned"))
        elif flag and not getattr(settings, flag):
            kept.append((ref, f"{ref.kind} objects are never pruned unless enabled"))
        elif other is not None:
            deferred.append(ref)
            kept.append((ref, f"prune deferred: source {other.name} is not known now ({other.reason}) "
                              "and may have taken it over"))
        else:
            delete.append(ref)
    total = len(previous)
    if total >= settings.min_inventory and len(delete) > settings.max_fraction * total:
        return PrunePlan(kept=tuple(kept), deferred=tuple(deferred), refused=(
            f"refusing to prune {len(delete)} of {total} objects (more than {settings.max_fraction:.0%}); "
            "raise prune.maxFraction to allow it"))
    delete.sort(key=lambda r: (-rank(r.kind), r))
    return PrunePlan(delete=tuple(delete), kept=tuple(kept), deferred=tuple(deferred))


def execute(client: KubeClient, prune_plan: PrunePlan, source: str) -> PruneResult:
    """Delete the planned objects that still carry this source's owner label."""
    if prune_plan.refused:
        return PruneResult(kept=prune_plan.kept, refused=prune_plan.refused, deferred=prune_plan.deferred)
    deleted: list[ObjectRef] = []
    kept = list(prune_plan.kept)
    for ref in prune_plan.delete:
        try:
            live = client.get(ref.api_version, ref.kind, ref.name, ref.namespace)
        except KubeError as e:
            if e.status != 404:
                raise
            live = None  # its kind is gone (CRD deleted): nothing left to prune
        if live is None:
            continue
        if not owned_by(live, source):
            kept.append((ref, f"no longer labelled {OWNER_LABEL}={owner_value(source)}"))
            continue
        if client.delete(ref.api_version, ref.kind, ref.name, ref.namespace):
            deleted.append(ref)
    return PruneResult(deleted=tuple(deleted), kept=tuple(kept), deferred=prune_plan.deferred)
