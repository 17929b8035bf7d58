"""Per-source authority, set by the operator in the reconciler's config (never by the repo): which
namespaces and kinds a source may touch, in the spirit of Argo CD's AppProject, and the ServiceAccount its
API calls impersonate. Cluster-scoped kinds are denied unless listed. A revision with any object outside
its source's grant is refused before anything is written.

A source without ``authority:`` gets the default grant (:func:`grant_of`): any namespaced kind in its own
target namespace, and of cluster-scoped objects only the Namespace of that name — never RBAC, webhooks,
CRDs or other namespaces, whatever the reconciler's own RBAC allows."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from handoff.reconciler.config import Authority, Source
from handoff.reconciler.objects import group_of, key_of
from handoff.report.model import ObjectRef


@dataclass(frozen=True)
class Grant:
    """An operator's ``authority:`` (or the default one), plus the Namespaces the source may own by name
    without ``Namespace`` in ``clusterKinds``."""

    authority: Authority
    own_namespaces: tuple[str, ...] = ()


def grant_of(source: Source) -> Grant:
    """What ``source`` may touch: its ``authority:``, else its own namespace and that Namespace only."""
    if source.authority is not None:
        return Grant(source.authority)
    return Grant(Authority(namespaces=(source.namespace,)), own_namespaces=(source.namespace,))


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


def why_denied(ref: ObjectRef, grant: Authority | Grant) -> str:
    """Why ``ref`` is outside ``grant`` ("" when it is inside)."""
    own = grant.own_namespaces if isinstance(grant, Grant) else ()
    authority = grant.authority if isinstance(grant, Grant) else grant
    if _kind_matches(ref, authority.denied_kinds):
        return f"kind {ref.kind} is denied"
    if not ref.namespace:
        if ref.kind == "Namespace" and group_of(ref) == "" and ref.name in own:
            return ""
        if not _kind_matches(ref, authority.cluster_kinds):
            return f"cluster-scoped kind {ref.kind} is not granted"
        return ""
    if _namespace_matches(ref.namespace, authority.denied_namespaces):
        return f"namespace {ref.namespace} is denied"
    if not _namespace_matches(ref.namespace, authority.namespaces):
        return f"namespace {ref.namespace} is not granted"
    if not _kind_matches(ref, authority.kinds):
        return f"kind {ref.kind} is not granted"
    return ""


def denied(refs: Iterable[ObjectRef], grant: Grant) -> list[tuple[ObjectRef, str]]:
    return [(ref, why) for ref in refs if (why := why_denied(ref, grant))]
