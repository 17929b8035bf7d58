"""What a Source object in namespace N may touch: the operator's grant for N, never the object's own say.

The operator's tenants (the config file's ``tenants:``, or a tenants file: ``handoff reconcile --tenants
FILE``; one parser, ``config.parse_tenants``) map namespace globs to
an authority, where ``{namespace}`` in a pattern stands for N itself; the first tenant matching N
decides. A namespace no tenant names gets the default: its own namespace only, no cluster-scoped kinds.
The reconciler's own namespace is never granted to a tenant, nor is another tenant's: a namespace a
tenant pattern matches belongs to that tenant, so ``{namespace}-*`` for team-a never reaches team-a-b
when ``team-*`` names tenants: of those namespaces, a tenant's grant reaches only N itself."""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from pathlib import Path

from handoff.errors import ConfigError, YamlError
from handoff.manifests import yamlio
from handoff.reconciler.config import Authority, Tenant, parse_tenants

__all__ = ["Tenant", "authority_for", "default_service_account", "load_tenants", "parse_tenants"]


def _expanded(patterns: Sequence[str], namespace: str) -> tuple[str, ...]:
    return tuple(p.replace("{namespace}", namespace) for p in patterns)


def _tenant_of(namespace: str, tenants: Sequence[Tenant]) -> Tenant | None:
    return next((t for t in tenants if any(fnmatch.fnmatchcase(namespace, p) for p in t.namespaces)), None)


def default_service_account(namespace: str, tenants: Sequence[Tenant]) -> str | None:
    """The ServiceAccount a Source in ``namespace`` naming none impersonates (its tenant's
    ``defaultServiceAccount``), or None: the reconciler's own identity, within the grant."""
    tenant = _tenant_of(namespace, tenants)
    return tenant.default_service_account if tenant else None


def authority_for(namespace: str, tenants: Sequence[Tenant], control_namespace: str) -> Authority:
    """The grant of Sources in ``namespace``."""
    tenant = _tenant_of(namespace, tenants)
    if tenant is None:  # even a Source in the control namespace is granted nothing there
        return Authority(namespaces=(namespace,), denied_namespaces=(control_namespace,), cluster_kinds=(),
                         namespace_metadata=())
    a = tenant.authority
    return Authority(namespaces=_expanded(a.namespaces, namespace),
                     denied_namespaces=(*_expanded(a.denied_namespaces, namespace), control_namespace),
                     kinds=a.kinds, denied_kinds=a.denied_kinds, cluster_kinds=a.cluster_kinds,
                     namespace_metadata=a.namespace_metadata, other_tenants=_tenant_patterns(tenants),
                     tenant=namespace, allow_mutating_pods=a.allow_mutating_pods, adopt=a.adopt)


def _tenant_patterns(tenants: Sequence[Tenant]) -> tuple[str, ...]:
    """Every namespace glob that names a tenant: a namespace one matches is that tenant's."""
    return tuple(dict.fromkeys(p for t in tenants for p in t.namespaces))


def load_tenants(path: Path) -> tuple[Tenant, ...]:
    """A tenants file (``tenants:`` as above), read through the bounded YAML loader."""
    file = str(path)
    try:
        _, documents = yamlio.load_file(path, display=file)
    except YamlError as e:
        raise ConfigError(e.message, file=file, line=e.line) from e
    doc = yamlio.to_data(next((d for d in documents if d is not None), None)) or {}
    if not isinstance(doc, Mapping):
        raise ConfigError("a tenants file is a mapping with tenants:", file=file)
    return parse_tenants(doc.get("tenants"), file=file)
