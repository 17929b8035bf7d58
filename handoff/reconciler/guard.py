"""The reconciler's own objects, which no source may apply, patch or prune: its Lease, inventory and status
ConfigMaps, config, credentials, Deployment, ServiceAccount, RBAC and metrics Service in its namespace, its
Namespace, and the cluster-scoped RBAC its install manifests create. Repo content that names one of them
is refused before anything is written, so a commit can neither take leadership nor widen the reconciler's
rights. Nor may a source run a Pod as the reconciler's ServiceAccount: that Pod would hold the
reconciler's rights, more than any grant."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from handoff.reconciler.config import Settings
from handoff.reconciler.inventory import INVENTORY_PREFIX
from handoff.reconciler.manifests import APP, GIT_CREDENTIALS_SECRET
from handoff.reconciler.objects import ref_of
from handoff.reconciler.status import STATUS_PREFIX
from handoff.report.model import ObjectRef

_OWN_PREFIXES = (INVENTORY_PREFIX, STATUS_PREFIX, f"{APP}-")
_CLUSTER_RBAC = frozenset({"ClusterRole", "ClusterRoleBinding"})


def own_object(ref: ObjectRef, settings: Settings) -> bool:
    """True when ``ref`` is one of the reconciler's own objects."""
    if ref.kind == "Namespace" and not ref.namespace:
        return ref.name == settings.namespace
    if not ref.namespace:
        return ref.kind in _CLUSTER_RBAC and (ref.name == APP or ref.name.startswith(f"{APP}-"))
    if ref.namespace != settings.namespace:
        return False
    if ref.kind == "Lease":
        return ref.name == settings.lease_name
    return ref.name in (APP, GIT_CREDENTIALS_SECRET) or ref.name.startswith(_OWN_PREFIXES)


def own_objects(refs: Iterable[ObjectRef], settings: Settings) -> list[ObjectRef]:
    return [r for r in refs if own_object(r, settings)]


def _pod_specs(obj: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The pod specs an object runs: a Pod's own, a workload's template, a CronJob's job template."""
    spec = obj.get("spec")
    if not isinstance(spec, Mapping):
        return []
    if obj.get("kind") == "Pod":
        return [spec]
    found = []
    for holder in (spec, (spec.get("jobTemplate") or {}).get("spec") or {}):
        template = holder.get("template") if isinstance(holder, Mapping) else None
        if isinstance(template, Mapping) and isinstance(template.get("spec"), Mapping):
            found.append(template["spec"])
    return found


def runs_as_reconciler(obj: Mapping[str, Any], settings: Settings) -> bool:
    """True when ``obj`` runs pods as the reconciler's ServiceAccount (a ServiceAccount is namespaced, so
    only pods in the reconciler's namespace can; ``serviceAccount`` is the deprecated spelling)."""
    if str((obj.get("metadata") or {}).get("namespace") or "") != settings.namespace:
        return False
    return any(spec.get("serviceAccountName") == APP or spec.get("serviceAccount") == APP
               for spec in _pod_specs(obj))


def borrowing_identity(objects: Iterable[Mapping[str, Any]], settings: Settings) -> list[ObjectRef]:
    return [ref_of(o) for o in objects if runs_as_reconciler(o, settings)]
