"""Per-source authority, set by the operator in the reconciler's config (never by the repo): which
namespaces and kinds a source may touch, in the spirit of Argo CD's AppProject, and the ServiceAccount its
API calls impersonate. Cluster-scoped kinds are denied unless listed. A revision with any object outside
its source's grant is refused before anything is written.

A source without ``authority:`` gets the default grant (:func:`grant_of`): any namespaced kind in its own
target namespace, and of cluster-scoped objects only the Namespace of that name — never RBAC, webhooks,
CRDs or other namespaces, whatever the reconciler's own RBAC allows — and on that Namespace object no label
or annotation at all (so never its Pod Security level), unless the operator's ``namespaceMetadata`` lists
it.

Beyond kinds and namespaces, an object's content is checked where it decides more than its own place
(:func:`why_object_denied`): a Namespace's labels and annotations against ``namespaceMetadata``, and a
ServiceAccount token (a ``service-account-token`` Secret, a TokenRequest) only for a ServiceAccount the
source could run a Pod as anyway."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from handoff.reconciler.config import Authority, Source
from handoff.reconciler.guard import token_for
from handoff.reconciler.objects import MANAGED_BY_LABEL, OWNER_LABEL, group_of, key_of, ref_of
from handoff.report.model import ObjectRef

POD_SECURITY_PREFIX = "pod-security.kubernetes.io/"
# Kinds a glob never grants, only a ``kinds`` entry naming them: an Endpoints or EndpointSlice object
# steers a Service's traffic to any address (CVE-2021-25740, why Kubernetes' own edit and admin roles no
# longer include them)
_NAMED_ONLY = frozenset({("", "Endpoints"), ("discovery.k8s.io", "EndpointSlice")})
# set by handoff (its owner and managed-by labels) or by the API server itself (the immutable name label)
_NAMESPACE_KEYS_ALWAYS_ALLOWED = frozenset({OWNER_LABEL, MANAGED_BY_LABEL, "kubernetes.io/metadata.name"})


@dataclass(frozen=True)
class Grant:
    """An operator's ``authority:`` (or the default one), plus the Namespaces the source may own by name
    without ``Namespace`` in ``clusterKinds``."""

    authority: Authority
    own_namespaces: tuple[str, ...] = ()
    service_account: tuple[str, str] | None = None  # (namespace, name) the source's calls impersonate


def grant_of(source: Source, control_namespace: str = "") -> Grant:
    """What ``source`` may touch: its ``authority:``, else its own namespace and that Namespace only (with
    no label or annotation of its own). An ``authority:`` never reaches the reconciler's own namespace
    (``control_namespace``) through a glob, as a tenant's never does: only by that name in ``namespaces``."""
    sa = (service_account_namespace(source), service_account_name(source)) if source.service_account else None
    if source.authority is not None:
        granted = source.authority
        if control_namespace and control_namespace not in granted.namespaces:
            granted = replace(granted, denied_namespaces=(*granted.denied_namespaces, control_namespace))
        return Grant(granted, service_account=sa)
    return Grant(Authority(namespaces=(source.namespace,), namespace_metadata=()),
                 own_namespaces=(source.namespace,), service_account=sa)


def service_account_user(source: Source) -> str:
    """``system:serviceaccount:NS:NAME`` for ``serviceAccount: NAME`` (in the source's namespace) or
    ``NS/NAME``."""
    return f"system:serviceaccount:{service_account_namespace(source)}:{service_account_name(source)}"


def service_account_namespace(source: Source) -> str:
    return (source.service_account or "").rpartition("/")[0] or source.namespace


def service_account_name(source: Source) -> str:
    return (source.service_account or "").rpartition("/")[2]


def service_account_groups(source: Source) -> tuple[str, ...]:
    """The groups Kubernetes gives a ServiceAccount's token, so RBAC bound to them applies to the
    impersonated identity as it would to the ServiceAccount itself."""
    return ("system:serviceaccounts", f"system:serviceaccounts:{service_account_namespace(source)}",
            "system:authenticated")


def _kind_matches(ref: ObjectRef, patterns: Sequence[str]) -> bool:
    """A pattern is ``Kind`` (any group) or ``group/Kind`` (``/Kind`` for the core group), with globs."""
    groups = {group_of(ref), key_of(ref).group}  # both groups of a resource served under two
    return any(fnmatch.fnmatchcase(f"{group}/{ref.kind}" if "/" in p else ref.kind, p)
               for p in patterns for group in groups)


def _namespace_matches(namespace: str, patterns: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(namespace, p) for p in patterns)


def _kind_granted(ref: ObjectRef, patterns: Sequence[str]) -> bool:
    if (group_of(ref), ref.kind) in _NAMED_ONLY or (key_of(ref).group, ref.kind) in _NAMED_ONLY:
        patterns = [p for p in patterns if not any(c in p for c in "*?[")]
    return _kind_matches(ref, patterns)


def _place_why(namespace: str, authority: Authority, what: str = "namespace") -> str:
    if _namespace_matches(namespace, authority.denied_namespaces):
        return f"{what} {namespace} is denied"
    if not _namespace_matches(namespace, authority.namespaces):
        return f"{what} {namespace} is not granted"
    if namespace != authority.tenant and _namespace_matches(namespace, authority.other_tenants):
        return f"{what} {namespace} is another tenant's (a tenant pattern matches it)"
    return ""


def why_denied(ref: ObjectRef, grant: Authority | Grant) -> str:
    """Why ``ref`` is outside ``grant`` ("" when it is inside)."""
    own = grant.own_namespaces if isinstance(grant, Grant) else ()
    authority = grant.authority if isinstance(grant, Grant) else grant
    if _kind_matches(ref, authority.denied_kinds):
        return f"kind {ref.kind} is denied"
    if not ref.namespace:
        namespace_object = ref.kind == "Namespace" and group_of(ref) == ""
        if namespace_object and ref.name in own:
            return ""
        if not _kind_matches(ref, authority.cluster_kinds):
            return f"cluster-scoped kind {ref.kind} is not granted"
        # granting the kind grants the Namespace objects of the granted namespaces, not every Namespace
        return _place_why(ref.name, authority, "Namespace") if namespace_object else ""
    why = _place_why(ref.namespace, authority)
    if why:
        return why
    if not _kind_granted(ref, authority.kinds):
        return f"kind {ref.kind} is not granted" + (
            " (only by its name in kinds)" if _kind_matches(ref, authority.kinds) else "")
    return ""


def namespace_covered(grant: Grant, control_namespace: str) -> Callable[[str], bool] | None:
    """Which namespaces ``grant`` admits objects in, None when it admits every namespace but the
    reconciler's own (``control_namespace``): a cluster-wide grant."""
    authority = grant.authority
    if "*" in authority.namespaces and not authority.other_tenants and all(
            d == control_namespace for d in authority.denied_namespaces):
        return None
    return lambda namespace: namespace in grant.own_namespaces or not _place_why(namespace, authority)


def denied(refs: Iterable[ObjectRef], grant: Grant) -> list[tuple[ObjectRef, str]]:
    return [(ref, why) for ref in refs if (why := why_denied(ref, grant))]


def covers(grant: Grant) -> Callable[[ObjectRef], bool]:
    """Whether ``grant`` admits an object (by its identity alone)."""
    return lambda ref: not why_denied(ref, grant)


def _metadata_key_granted(key: str, patterns: Sequence[str]) -> bool:
    """A Pod Security key needs a pattern that names its prefix: ``*`` alone never lowers admission."""
    if key in _NAMESPACE_KEYS_ALWAYS_ALLOWED:
        return True
    if key.startswith(POD_SECURITY_PREFIX):
        patterns = [p for p in patterns if p.startswith(POD_SECURITY_PREFIX)]
    return any(fnmatch.fnmatchcase(key, p) for p in patterns)


def _namespace_metadata_why(obj: Mapping[str, Any], authority: Authority) -> str:
    meta = obj.get("metadata") or {}
    for what in ("labels", "annotations"):
        for key in sorted(str(k) for k in (meta.get(what) or {})):
            if not _metadata_key_granted(key, authority.namespace_metadata):
                return f"{what[:-1]} {key} on a Namespace is not granted (namespaceMetadata)"
    return ""


def _token_why(obj: Mapping[str, Any], grant: Grant) -> str:
    """A token is granted only for a ServiceAccount the source could run a Pod as anyway: one in a
    namespace where the grant admits Pods, or the ServiceAccount its calls impersonate."""
    found = token_for(obj)
    if found is None:
        return ""
    namespace, name = found
    if not name:
        return "a ServiceAccount token that names no ServiceAccount"
    if grant.service_account == (namespace, name):
        return ""
    pods = why_denied(ObjectRef("v1", "Pod", name, namespace), grant)
    return f"a token for ServiceAccount {namespace}/{name}, which it may not run Pods as ({pods})" \
        if pods else ""


def why_object_denied(obj: Mapping[str, Any], grant: Grant) -> str:
    """Why ``obj`` is outside ``grant`` ("" when it is inside): its kind and place, then what its content
    decides beyond itself."""
    ref = ref_of(obj)
    why = why_denied(ref, grant)
    if why:
        return why
    if ref.kind == "Namespace" and group_of(ref) == "" and not ref.namespace:
        why = _namespace_metadata_why(obj, grant.authority)
    return why or _token_why(obj, grant)


def denied_objects(objects: Iterable[Mapping[str, Any]], grant: Grant) -> list[tuple[ObjectRef, str]]:
    return [(ref_of(o), why) for o in objects if (why := why_object_denied(o, grant))]

