"""The namespaces a pass writes to exist before its preflight: the reconciler's own (Lease, inventory,
status), created when missing, and those a revision's objects go to.

A revision's namespace that is missing (and that the revision does not add as a Namespace object) is
created only when the operator set ``createNamespace: true`` / ``--create-namespace`` on the source (off by
default, as Argo CD's ``CreateNamespace=true`` sync option), only the source's target namespace, and only
when its grant covers that Namespace; it carries the owner and managed-by labels but is never listed in
the inventory, so never pruned. Otherwise the pass fails with one line saying what to run."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from handoff.errors import ReconcileError
from handoff.kube.client import KubeClient, KubeError
from handoff.reconciler.authority import Grant, why_denied
from handoff.reconciler.config import Source
from handoff.reconciler.objects import labelled
from handoff.report.model import ObjectRef


class NamespaceMissing(ReconcileError):
    """A namespace a pass writes to does not exist and is not created."""


def exists(client: KubeClient, name: str) -> bool:
    """Whether Namespace ``name`` exists; an identity that may not read Namespaces counts it as existing
    (its writes will tell)."""
    try:
        return client.get("v1", "Namespace", name) is not None
    except KubeError as e:
        if e.status != 403:
            raise
        return True


def create(client: KubeClient, body: Mapping[str, Any]) -> None:
    """Create Namespace ``body`` (one created meanwhile is fine); an identity that may not create it gets
    one line saying what to run."""
    name = str(body["metadata"]["name"])
    try:
        client.create(body)
    except KubeError as e:
        if e.status == 403:
            raise NamespaceMissing(f"namespace {name} does not exist and this identity may not create it; "
                                   f"run: kubectl create namespace {name}") from e
        if e.status != 409:
            raise


def ensure_targets(client: KubeClient, source: Source, objects: Iterable[Mapping[str, Any]],
                   grant: Grant) -> tuple[str, ...]:
    """Check that every namespace ``objects`` go to exists or is added by them; create the source's target
    namespace when it may (module docstring). Returns the namespaces created."""
    objects = list(objects)
    added = {str(o["metadata"]["name"]) for o in objects
             if o.get("kind") == "Namespace" and o.get("apiVersion") == "v1"}  # a CRD may name a kind so
    wanted = sorted({str(ns) for o in objects if (ns := (o.get("metadata") or {}).get("namespace"))} - added)
    missing = [ns for ns in wanted if not exists(client, ns)]
    target = source.namespace if source.namespace in missing and source.create_namespace else ""
    outside = why_denied(ObjectRef("v1", "Namespace", target), grant) if target else ""
    if target and not outside:
        create(client, labelled({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": target}},
                                source.name, None))
    left = [ns for ns in missing if ns != target or outside]
    if left:
        raise NamespaceMissing(_what_to_run(source, left, outside))
    return (target,) if target else ()


def _what_to_run(source: Source, missing: list[str], outside: str) -> str:
    run = "; ".join(f"kubectl create namespace {ns}" for ns in missing)
    if outside:
        also = f"createNamespace is set, but the source's grant does not cover it: {outside}"
    elif source.namespace in missing and not source.create_namespace:
        also = "or set createNamespace: true (--create-namespace) on the source"
    else:
        also = "or add its Namespace object to the repo"
    what = f"namespace {missing[0]} does not exist" if len(missing) == 1 else \
        f"namespaces {', '.join(missing)} do not exist"
    return f"{what}; run: {run} ({also})"
