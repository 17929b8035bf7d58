"""Per-source authority, set by the operator in the reconciler's config (never by the repo): which
namespaces and kinds a source may touch, in the spirit of Argo CD's AppProject. Cluster-scoped kinds are
denied unless listed. A revision with any object outside its source's grant is refused before anything is
written."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Sequence

from handoff.reconciler.config import Authority
from handoff.reconciler.objects import key_of
from handoff.report.model import ObjectRef


def _kind_matches(ref: ObjectRef, patterns: Sequence[str]) -> bool:
    """A pattern is ``Kind`` (any group) or ``group/Kind`` (``/Kind`` for the core group), with globs."""
    group = key_of(ref).group
    return any(fnmatch.fnmatchcase(f"{group}/{ref.kind}" if "/" in p else ref.kind, p) for p in patterns)


def _namespace_matches(namespace: str, patterns: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(namespace, p) for p in patterns)


def why_denied(ref: ObjectRef, authority: Authority) -> str:
    """Why ``ref`` is outside ``authority`` ("" when it is inside)."""
    if _kind_matches(ref, authority.denied_kinds):
        return f"kind {ref.kind} is denied"
    if not ref.namespace:
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


def denied(refs: Iterable[ObjectRef], authority: Authority | None) -> list[tuple[ObjectRef, str]]:
    if authority is None:
        return []
    return [(ref, why) for ref in refs if (why := why_denied(ref, authority))]
