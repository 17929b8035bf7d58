"""An inventory entry at a version the API server serves now.

An object's identity is its group, kind, namespace and name; the version an inventory recorded is only how
it was last written. After a CRD stops serving that version, or a Kubernetes upgrade removes it (an HPA at
``autoscaling/v2beta2``, a PDB at ``policy/v1beta1``), the object is still there, read and deleted at a
version its group serves now. Only a group and kind served at no version mean the object is gone (its CRD
was deleted); a CRD that still exists but serves no version keeps its objects in storage, unreachable, so
that case is *unsure*, and so is any discovery the identity may not read."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from handoff.kube.client import KubeClient, KubeError, KubeUnavailable
from handoff.reconciler.objects import group_of
from handoff.report.model import ObjectRef

_CRD = ("apiextensions.k8s.io/v1", "CustomResourceDefinition")


@dataclass(frozen=True)
class Served:
    """Where an inventory entry can be read now: ``ref`` at a served version, or None; with ``unsure``
    saying why it cannot be told whether the object still exists ("" when ``ref`` is None because its
    group and kind are served at no version and no CRD defines them: it is gone)."""

    ref: ObjectRef | None
    unsure: str = ""


def _not_found(e: KubeError) -> bool:
    return e.status == 404 and not isinstance(e, KubeUnavailable)


def _serves(client: KubeClient, api_version: str, kind: str) -> bool:
    try:
        client.resource(api_version, kind)
    except KubeError as e:
        if not _not_found(e):
            raise
        return False
    return True


def served(client: KubeClient, ref: ObjectRef) -> Served:
    """``ref`` at its own version when served, else at its group's preferred version, else at another
    version the group serves the kind at. Raises ``KubeUnavailable``; any other discovery error makes the
    answer unsure."""
    try:
        if _serves(client, ref.api_version, ref.kind):
            return Served(ref)
        group = group_of(ref)
        if not group:  # the core group has one version, v1
            return Served(None)
        try:
            listing = client.request("GET", f"/apis/{group}")
        except KubeError as e:
            if not _not_found(e):
                raise
            listing = {}
        preferred = listing.get("preferredVersion") or {}
        versions = [str(v.get("groupVersion")) for v in [preferred, *(listing.get("versions") or ())]
                    if v.get("groupVersion")]
        for version in dict.fromkeys(versions):
            if version != ref.api_version and _serves(client, version, ref.kind):
                return Served(replace(ref, api_version=version))
        return _served_nowhere(client, ref, group)
    except KubeUnavailable:
        raise
    except KubeError as e:
        return Served(None, f"its kind cannot be looked up ({e.status or e})")


def _served_nowhere(client: KubeClient, ref: ObjectRef, group: str) -> Served:
    """A group and kind served at no version: gone, unless a CRD still defines them (serving no version,
    its objects stay stored)."""
    for crd in client.list(*_CRD):
        spec = crd.get("spec") or {}
        if spec.get("group") == group and (spec.get("names") or {}).get("kind") == ref.kind:
            return Served(None, f"its CustomResourceDefinition {(crd.get('metadata') or {}).get('name')} "
                                "serves no version, so it cannot be read")
    return Served(None)


def refreshed(client: KubeClient, ref: ObjectRef, tried: ObjectRef) -> Served:
    """:func:`served` again with fresh discovery, after ``tried`` (what :func:`served` gave) found no
    object: discovery read earlier in the pass may have named a version the API server stopped serving
    since (a CRD the pass just changed)."""
    client.forget_discovery()
    again = served(client, ref)
    if again.ref == tried:
        return Served(None)  # the same served version: the object itself is gone
    return again


@dataclass(frozen=True)
class Found:
    """An inventory entry's live object (``live``) and the entry at the served version it was read at
    (``ref``); both None when it is gone, and ``unsure`` says why it could not be looked up."""

    ref: ObjectRef | None
    live: dict[str, Any] | None = None
    unsure: str = ""


def live_object(client: KubeClient, ref: ObjectRef) -> Found:
    """The live object of inventory entry ``ref``, read at a version the API server serves for its group
    and kind now; a miss is checked again with fresh discovery (a version the pass just stopped serving
    may still be in the cached discovery)."""
    at = served(client, ref)
    if at.ref is None:
        return Found(None, unsure=at.unsure)
    live = client.get(at.ref.api_version, at.ref.kind, at.ref.name, at.ref.namespace)
    if live is not None:
        return Found(at.ref, live)
    again = refreshed(client, ref, at.ref)
    if again.ref is None:
        return Found(None, unsure=again.unsure)
    live = client.get(again.ref.api_version, again.ref.kind, again.ref.name, again.ref.namespace)
    return Found(again.ref if live is not None else None, live)
