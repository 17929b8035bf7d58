"""Prune safely: delete only what the last inventory lists, the new render lacks, and the owner label
still claims; never an object the source adopted (:mod:`adoption`); refuse mass deletions; never
Namespaces or CRDs unless allowed; reverse apply order.

Never wider than the source: deleting a CRD deletes every custom resource of it, and deleting a Namespace
everything in it, whoever owns them. So before either is deleted, what the API server would delete with it
is listed, and unless every one of those objects is this source's (owner label) and inside its grant, the
CRD or Namespace is kept, with the reason, and stays in the inventory.

Never blind: an object another source desires is kept (moved), and while another source's desired objects
cannot be known (its fetch or render fails, it never rendered), the deletion of anything that source could
have taken over is deferred: kept in the inventory, named in status, tried again at a later revision."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from handoff.kube.client import KubeClient, KubeError
from handoff.reconciler.adoption import adopted
from handoff.reconciler.config import PruneSettings
from handoff.reconciler.objects import (
    ADOPTED_ANNOTATION,
    NAMESPACE_FIXTURES,
    OWNER_LABEL,
    ObjectKey,
    group_of,
    key_of,
    owned_by,
    owner_value,
    rank,
    ref_of,
    unique_by_key,
)
from handoff.reconciler.served import live_object
from handoff.report.model import ObjectRef

_PROTECTED = {"Namespace": "allow_namespaces", "CustomResourceDefinition": "allow_crds"}
_CRD = ("apiextensions.k8s.io/v1", "CustomResourceDefinition")
_EVENTS = frozenset({("", "Event"), ("events.k8s.io", "Event")})


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
         unknown: Sequence[UnknownSource] = (),
         outside_grant: Sequence[tuple[ObjectRef, str]] = ()) -> PrunePlan:
    """The deletions a pass may make, before looking at the cluster. Objects are compared by group, kind,
    namespace and name: one whose ``apiVersion`` changed is still rendered, never a candidate.
    ``protected``: the reconciler's own objects; ``outside_grant``: objects the source's grant does not
    cover (with why), e.g. after the operator narrowed it: neither is ever deleted, each named as such.
    ``claimed``: objects another source desires (by key, with its name), moved there: never deleted.
    ``unknown``: other sources not known now; what one of them could hold is deferred, not deleted."""
    claimed = claimed or {}
    now = {key_of(r) for r in current}
    previous = unique_by_key(previous)
    candidates = [r for r in previous if key_of(r) not in now]
    off_limits = {key_of(r) for r in protected}
    not_granted = {key_of(r): why for r, why in outside_grant}
    delete: list[ObjectRef] = []
    kept: list[tuple[ObjectRef, str]] = []
    deferred: list[ObjectRef] = []
    for ref in candidates:
        other = next((u for u in unknown if u.covers(ref)), None)
        flag = _PROTECTED.get(ref.kind)
        if key_of(ref) in off_limits:
            kept.append((ref, "the reconciler's own object: never pruned"))
        elif key_of(ref) in not_granted:
            kept.append((ref, f"outside this source's grant ({not_granted[key_of(ref)]}): never pruned"))
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


def _everything(_: ObjectRef) -> bool:
    return True


class _Unlisted(Exception):
    """What a CRD's or Namespace's deletion would take cannot be listed: its deletion is refused."""


def _namespaced_kinds(client: KubeClient) -> list[tuple[str, str]]:
    """``(apiVersion, kind)`` of every namespaced kind that can be listed, once per group and kind, looked up
    at every version a group serves (a kind may be served at a version other than the group's preferred
    one; a Namespace's deletion removes its objects of every kind and version alike)."""
    groups = client.request("GET", "/apis").get("groups", [])
    versions = ["v1"] + [str(v.get("groupVersion")) for g in groups
                         for v in [g.get("preferredVersion") or {}, *(g.get("versions") or ())]
                         if v.get("groupVersion")]
    kinds: dict[tuple[str, str], str] = {}
    for version in dict.fromkeys(versions):
        try:
            listing = client.request("GET", "/api/v1" if version == "v1" else f"/apis/{version}")
        except KubeError as e:  # an aggregated API whose service is down answers 503
            raise _Unlisted(f"{version} cannot be listed ({e.status})") from e
        for r in listing.get("resources", []):
            if "/" not in r["name"] and r.get("namespaced") and "list" in (r.get("verbs") or ()):
                kinds.setdefault((version.rpartition("/")[0], str(r["kind"])), version)
    return [(version, kind) for (_, kind), version in kinds.items()]


def _crd_contents(client: KubeClient, live: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Every custom resource of CRD ``live``, listed at its storage version when served, else another
    served one; a CRD serving no version still stores its custom resources (and its deletion removes
    them), but they cannot be listed."""
    spec = live.get("spec") or {}
    versions = [v for v in spec.get("versions") or () if v.get("served")]
    if not versions:
        raise _Unlisted("it serves no version, so its stored custom resources cannot be listed")
    version = next((v for v in versions if v.get("storage")), versions[0])
    return list(client.list(f"{spec.get('group')}/{version.get('name')}",
                            str((spec.get("names") or {}).get("kind"))))


def _uncontrolled(items: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """``items`` less those whose owner chain reaches one of ``items`` that has no owner among them
    (their fate follows that counted owner). One owned by an object outside ``items`` (a cluster-scoped
    owner, one in another Namespace, a dangling uid) is counted: the Namespace's deletion takes it anyway."""
    uid = {id(i): str((i.get("metadata") or {}).get("uid", "")) for i in items}
    owners = {id(i): {str(o.get("uid", "")) for o in (i.get("metadata") or {}).get("ownerReferences") or ()}
              for i in items}
    present = set(uid.values()) - {""}
    counted = [i for i in items if not owners[id(i)] & present]
    followed = {uid[id(i)] for i in counted} - {""}
    grew = True
    while grew:  # dependents of what is counted, at any depth; an ownership cycle alone is counted
        more = {uid[id(i)] for i in items if owners[id(i)] & followed} - followed
        followed |= more
        grew = bool(more)
    return counted + [i for i in items if uid[id(i)] not in followed]


def _deleted_with(client: KubeClient, ref: ObjectRef, live: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The objects the API server deletes with CRD or Namespace ``ref`` (``live``): every custom resource
    of the CRD, every object in the Namespace (each once, by uid). Those it creates itself (Events, the
    ``default`` ServiceAccount, the root CA ConfigMap) and those another counted one controls are left
    out: their fate follows what is counted. Raises ``_Unlisted`` when they cannot all be listed."""
    if ref.kind == "CustomResourceDefinition":
        return _crd_contents(client, live)
    found: dict[str, dict[str, Any]] = {}
    for api_version, kind in _namespaced_kinds(client):
        for item in client.list(api_version, kind, namespace=ref.name):
            item_ref = ref_of(item)
            if (group_of(item_ref), item_ref.kind) in _EVENTS or \
                    (group_of(item_ref), item_ref.kind, item_ref.name) in NAMESPACE_FIXTURES:
                continue
            found.setdefault(str((item.get("metadata") or {}).get("uid") or id(item)), item)
    return _uncontrolled(list(found.values()))


def why_blast(client: KubeClient, ref: ObjectRef, live: Mapping[str, Any], source: str,
              covers: Callable[[ObjectRef], bool]) -> str:
    """Why deleting ``ref`` would delete more than this source's own objects inside its grant ("" when it
    would not, or when ``ref`` takes nothing with it)."""
    if ref.kind not in _PROTECTED or group_of(ref) not in ("", "apiextensions.k8s.io"):
        return ""
    try:
        others = [o for o in _deleted_with(client, ref, live)
                  if not (owned_by(o, source) and covers(ref_of(o)))]
    except _Unlisted as e:
        return f"what its deletion would take cannot be listed: {e}"
    except KubeError as e:  # refused, gone, or unavailable now: never delete what was not counted
        return f"its contents cannot be listed to check what its deletion would take ({e.status})"
    if not others:
        return ""
    more = f" and {len(others) - 3} more" if len(others) > 3 else ""
    return (f"deleting it would delete {', '.join(str(ref_of(o)) for o in others[:3])}{more}, not this "
            "source's own objects inside its grant")


def execute(client: KubeClient, prune_plan: PrunePlan, source: str,
            covers: Callable[[ObjectRef], bool] = _everything) -> PruneResult:
    """Delete the planned objects that still carry this source's owner label, but adopted ones; a CRD or
    Namespace only when everything its deletion takes is this source's too and inside ``covers`` (its
    grant): otherwise it is kept and deferred (it stays in the inventory). Each is looked up at a version
    the API server serves for its group and kind now (:mod:`served`); one that cannot be looked up is kept
    and deferred too."""
    if prune_plan.refused:
        return PruneResult(kept=prune_plan.kept, refused=prune_plan.refused, deferred=prune_plan.deferred)
    deleted: list[ObjectRef] = []
    kept = list(prune_plan.kept)
    deferred = list(prune_plan.deferred)
    for ref in prune_plan.delete:
        found = live_object(client, ref)
        if found.unsure:
            kept.append((ref, f"prune deferred: {found.unsure}"))
            deferred.append(ref)
            continue
        at, live = found.ref, found.live
        if at is None or live is None:
            continue  # its group and kind are served at no version and no CRD defines them: it is gone
        if not owned_by(live, source):
            kept.append((ref, f"no longer labelled {OWNER_LABEL}={owner_value(source)}"))
            continue
        if adopted(live):
            kept.append((ref, "not pruned: adopted (it existed before the source applied it; "
                              f"{ADOPTED_ANNOTATION}), left in place"))
            continue
        blast = why_blast(client, at, live, source, covers)
        if blast:
            kept.append((ref, f"not pruned: {blast}"))
            deferred.append(ref)
            continue
        if client.delete(at.api_version, at.kind, at.name, at.namespace):
            deleted.append(ref)
    return PruneResult(deleted=tuple(deleted), kept=tuple(kept), deferred=tuple(deferred))

