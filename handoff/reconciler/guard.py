"""The reconciler's own objects, which no source may apply, patch or prune: its Lease, inventory and status
ConfigMaps, config, credentials, Deployment, ServiceAccount, RBAC and metrics Service in its namespace, its
Namespace, and the cluster-scoped RBAC its install manifests create. Repo content that names one of them
is refused before anything is written, so a commit can neither take leadership nor widen the reconciler's
rights."""

from __future__ import annotations

from collections.abc import Iterable

from handoff.reconciler.config import Settings
from handoff.reconciler.inventory import INVENTORY_PREFIX
from handoff.reconciler.manifests import APP, GIT_CREDENTIALS_SECRET
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
