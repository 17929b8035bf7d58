"""Which objects already in the cluster a source may take over.

A source applies objects by name, and a forced server-side apply of a name the cluster already has takes
that object over (its fields become the repo's); once in the inventory, prune would later delete it. So an
existing object with no handoff owner label (the operator's, a controller's, another tool's) is refused
unless the operator's grant says ``adopt: true``; what a Source deleted with ``prune: false`` released
(:data:`RELEASED_ANNOTATION`) is its own again when a Source of that name is re-created. Even with
``adopt``, never an admission object (a Deny binding guarding another namespace) nor Kubernetes' bootstrap
RBAC (``kubernetes.io/bootstrapping: rbac-defaults``, such as ``system:basic-user``, bound to every
authenticated user). An adopted object is marked (:data:`ADOPTED_ANNOTATION`, under a field manager of its
own, so the source's applies never remove it) and is never pruned: dropped from the repo, it is left in
place, as it was found.

Without ``adopt``, two kinds of existing objects are still taken over, as a namespace's owner expects: the
source's own target Namespace (the operator creates it, as the reconciler's own error tells them to) and
what Kubernetes puts in it (the ``default`` ServiceAccount, ``kube-root-ca.crt``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from handoff.reconciler.guard import is_admission
from handoff.reconciler.objects import (
    ADOPTED_ANNOTATION,
    NAMESPACE_FIXTURES,
    OWNER_LABEL,
    RELEASED_ANNOTATION,
    group_of,
    owner_value,
)
from handoff.report.model import ObjectRef

ADOPTION_MANAGER = "handoff-adoption"
_BOOTSTRAP = ("kubernetes.io/bootstrapping", "rbac-defaults")


def _labels(live: Mapping[str, Any]) -> Mapping[str, Any]:
    return (live.get("metadata") or {}).get("labels") or {}


def orphaned_mark(source: str) -> dict[str, str]:
    """The annotation a Source deleted with ``prune: false`` leaves on the objects it releases."""
    return {RELEASED_ANNOTATION: owner_value(source)}


def foreign(live: Mapping[str, Any] | None, source: str) -> bool:
    """Whether a live object (None: there is none) is no handoff source's: it carries no owner label and
    was not released by a source of this name (deleted with ``prune: false``, now re-created); or another
    source only adopted it. One the identity may not read (``{}``) counts as foreign. An owner label of a
    source not served now is not foreign: a paused Source object hands its objects back that way."""
    if live is None:
        return False
    owner = _labels(live).get(OWNER_LABEL)
    if owner is not None:  # another source's, unless it only adopted it: then the operator's still
        return owner != owner_value(source) and adopted(live)
    annotations = (live.get("metadata") or {}).get("annotations") or {}
    return bool(annotations.get(RELEASED_ANNOTATION) != owner_value(source))


def why_not_adopted(ref: ObjectRef, live: Mapping[str, Any], *, adopt: bool, own_namespace: str) -> str:
    """Why the source may not take over foreign object ``ref`` (``live``); "" when it may."""
    if is_admission(ref):
        return "exists in the cluster and is not this source's; an admission object is never taken over"
    if _labels(live).get(_BOOTSTRAP[0]) == _BOOTSTRAP[1]:
        return ("is Kubernetes' own bootstrap RBAC (kubernetes.io/bootstrapping: rbac-defaults), never taken "
                "over")
    if adopt:
        return ""
    group = group_of(ref)
    if (group, ref.kind) == ("", "Namespace") and ref.name == own_namespace:
        return ""
    if (group, ref.kind, ref.name) in NAMESPACE_FIXTURES and ref.namespace == own_namespace:
        return ""
    return ("exists in the cluster and is not this source's (no handoff.dev/source label); the operator's "
            "grant may allow adopting it (authority: adopt: true)")


def adopted(live: Mapping[str, Any] | None) -> bool:
    """Whether a live object was adopted by a source (it existed before): never pruned."""
    annotations = ((live or {}).get("metadata") or {}).get("annotations") or {}
    return bool(annotations.get(ADOPTED_ANNOTATION) == "true")


def marker(ref: ObjectRef) -> dict[str, Any]:
    """The apply configuration marking ``ref`` adopted, applied under :data:`ADOPTION_MANAGER`."""
    meta: dict[str, Any] = {"name": ref.name, "annotations": {ADOPTED_ANNOTATION: "true"}}
    if ref.namespace:
        meta["namespace"] = ref.namespace
    return {"apiVersion": ref.api_version, "kind": ref.kind, "metadata": meta}
