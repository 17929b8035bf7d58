"""Desired objects as the reconciler sends them: owner label, default namespace, apply order."""

from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from handoff.report.model import ObjectRef

OWNER_LABEL = "handoff.dev/source"
DRIFT_ANNOTATION = "handoff.dev/drift"
# marks the reconciler itself puts on objects it did not create (adoption.py): never the repo's to write
ADOPTED_ANNOTATION = "handoff.dev/adopted"
RELEASED_ANNOTATION = "handoff.dev/released-by"
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
# what Kubernetes itself puts in every namespace, by (group, kind, name): not anyone's objects
NAMESPACE_FIXTURES = frozenset({("", "ServiceAccount", "default"), ("", "ConfigMap", "kube-root-ca.crt")})

_LABEL_MAX = 63
_CUT_SUFFIX = re.compile(r"-[0-9a-f]{10}$")  # what owner_value ends a cut name with


def owner_value(source: str) -> str:
    """A source's name as a label value and an object-name suffix: ``NAMESPACE/NAME`` (a Source object)
    becomes ``NAMESPACE.NAME`` (a namespace has no dot, so it cannot collide with another object's), cut
    to 63 characters with a hash when longer; a config-file source's name (a DNS label) is itself. A
    name that already ends like a cut one (``-`` and ten hex digits) is hashed too, so no name spells
    another's cut value (labels and object names share no character a name lacks to mark it)."""
    safe = source.replace("/", ".")
    if len(safe) <= _LABEL_MAX and not _CUT_SUFFIX.search(safe):
        return safe
    digest = hashlib.sha256(source.encode()).hexdigest()[:10]
    return f"{safe[:_LABEL_MAX - 11].rstrip('.-')}-{digest}"


def owner_label(obj: Mapping[str, Any] | None) -> str:
    """The owner label value a live object (or None) carries, "" for none."""
    return str((((obj or {}).get("metadata") or {}).get("labels") or {}).get(OWNER_LABEL) or "")


def owned_by(obj: Mapping[str, Any] | None, source: str) -> bool:
    """Whether ``obj`` (a live object, or None) carries ``source``'s owner label."""
    labels = ((obj or {}).get("metadata") or {}).get("labels") or {}
    return bool(labels.get(OWNER_LABEL) == owner_value(source))


_RBAC = {"ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"}
_CONFIG = {"ConfigMap", "Secret", "PersistentVolumeClaim", "LimitRange", "ResourceQuota", "PriorityClass",
           "StorageClass", "PersistentVolume"}


def rank(kind: str) -> int:
    """Apply order: Namespaces, CRDs, RBAC, config, the rest (prune runs it in reverse)."""
    if kind == "Namespace":
        return 0
    if kind == "CustomResourceDefinition":
        return 1
    if kind in _RBAC:
        return 2
    if kind in _CONFIG:
        return 3
    return 4


def ordered(objects: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return sorted(objects, key=lambda o: rank(str(o.get("kind", ""))))


def ref_of(obj: Mapping[str, Any]) -> ObjectRef:
    meta = obj.get("metadata") or {}
    return ObjectRef(api_version=str(obj.get("apiVersion", "")), kind=str(obj.get("kind", "")),
                     name=str(meta.get("name", "")), namespace=str(meta.get("namespace") or ""))


@dataclass(frozen=True, order=True)
class ObjectKey:
    """An object's identity: group, kind, namespace and name. Not its version: the API server serves one
    object at every version of its group, so a changed ``apiVersion`` is the same object, updated."""

    group: str
    kind: str
    namespace: str
    name: str


# (group, kind) pairs the API server serves as one resource under another group: the same object in etcd,
# so one identity. Kubernetes 1.35 has one such pair left: ``events.k8s.io/v1`` Event is the core ``v1``
# Event (the ``extensions`` aliases of apps/networking kinds were removed in 1.16-1.22).
_SAME_RESOURCE = {("events.k8s.io", "Event"): ""}


def group_of(ref: ObjectRef) -> str:
    """The API group ``ref`` is written in ("v1" is the core group "")."""
    return ref.api_version.rpartition("/")[0]


def key_of(ref: ObjectRef) -> ObjectKey:
    group = group_of(ref)
    group = _SAME_RESOURCE.get((group, ref.kind), group)
    return ObjectKey(group, ref.kind, ref.namespace, ref.name)


def unique_by_key(refs: Iterable[ObjectRef]) -> tuple[ObjectRef, ...]:
    """One ref per object; a later ref of the same object (another version) replaces an earlier one."""
    out: dict[ObjectKey, ObjectRef] = {}
    for ref in refs:
        key = key_of(ref)
        out.pop(key, None)
        out[key] = ref
    return tuple(out.values())


def labelled(obj: Mapping[str, Any], source: str, namespace: str | None) -> dict[str, Any]:
    """A copy of ``obj`` carrying the owner label, with ``namespace`` when namespaced and unset, and
    ``None`` for a cluster-scoped kind: its ``metadata.namespace`` is cleared, as the API server clears it,
    so the object has one identity (and one grant, guard and prune decision) whatever the manifest says.
    The marks of adoption are dropped: only the reconciler sets them, under its own field manager."""
    out: dict[str, Any] = copy.deepcopy(dict(obj))
    meta = out.setdefault("metadata", {})
    if namespace is None:
        meta.pop("namespace", None)
    elif not meta.get("namespace"):
        meta["namespace"] = namespace
    meta.pop("creationTimestamp", None)
    labels = meta.setdefault("labels", {}) or {}
    labels[OWNER_LABEL] = owner_value(source)
    labels.setdefault(MANAGED_BY_LABEL, "handoff")
    meta["labels"] = labels
    annotations = meta.get("annotations")
    if isinstance(annotations, dict):
        for key in (ADOPTED_ANNOTATION, RELEASED_ANNOTATION):
            annotations.pop(key, None)
    out.pop("status", None)
    return out


def drift_ignored(obj: Mapping[str, Any] | None) -> bool:
    if not obj:
        return False
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    return str(annotations.get(DRIFT_ANNOTATION, "")).lower() == "ignore"
