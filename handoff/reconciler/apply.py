"""Server-side apply in order, one forced field manager. Before applying, fields held by kubectl's
client-side managers are handed to ``handoff`` (as Flux does), so ``kubectl edit`` additions are removed
by the next apply instead of lingering under another owner."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from handoff.kube.client import FIELD_MANAGER, KubeClient, KubeError
from handoff.reconciler.objects import ordered, ref_of
from handoff.report.model import ObjectRef

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
# Managers whose fields handoff takes over: kubectl's client-side apply and its interactive edits.
FOREIGN_MANAGERS = frozenset({"kubectl-client-side-apply", "before-first-apply", "kubectl-edit",
                              "kubectl-patch", "kubectl"})
_CRD_WAIT_SECONDS = 30.0


@dataclass(frozen=True)
class Applied:
    ref: ObjectRef
    result: Mapping[str, Any]


def merge_fields(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, Any]:
    """Union of two ``fieldsV1`` trees."""
    out = dict(a)
    for key, value in b.items():
        if key in out and isinstance(out[key], Mapping) and isinstance(value, Mapping):
            out[key] = merge_fields(out[key], value)
        else:
            out.setdefault(key, value)
    return out


def adopted_managed_fields(live: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    """``managedFields`` with kubectl's entries folded into handoff's apply entry, or None if unchanged."""
    entries = list((live.get("metadata") or {}).get("managedFields") or [])
    foreign = [e for e in entries if e.get("manager") in FOREIGN_MANAGERS and e.get("operation") == "Update"
               and not e.get("subresource")]
    if not foreign:
        return None
    rest = [e for e in entries if e not in foreign]
    mine = next((e for e in rest if e.get("manager") == FIELD_MANAGER and e.get("operation") == "Apply"),
                None)
    merged: dict[str, Any] = dict(mine.get("fieldsV1") or {}) if mine else {}
    for e in foreign:
        merged = merge_fields(merged, e.get("fieldsV1") or {})
    entry = {"manager": FIELD_MANAGER, "operation": "Apply", "fieldsType": "FieldsV1", "fieldsV1": merged,
             "apiVersion": (mine or foreign[0]).get("apiVersion", live.get("apiVersion"))}
    if mine:
        rest = [entry if e is mine else e for e in rest]
    else:
        rest.append(entry)
    return rest


def adopt_foreign_fields(client: KubeClient, live: Mapping[str, Any]) -> bool:
    """Take over kubectl-owned fields and drop the last-applied annotation. True if patched."""
    managed = adopted_managed_fields(live)
    annotations = (live.get("metadata") or {}).get("annotations") or {}
    ops: list[dict[str, Any]] = []
    if managed is not None:
        ops.append({"op": "replace", "path": "/metadata/managedFields", "value": managed})
    if LAST_APPLIED in annotations:
        ops.append({"op": "remove", "path": "/metadata/annotations/" + LAST_APPLIED.replace("/", "~1")})
    if not ops:
        return False
    ref = ref_of(live)
    client.patch(ref, ops, params={"fieldManager": FIELD_MANAGER})
    return True


def wait_established(client: KubeClient, name: str, timeout: float = _CRD_WAIT_SECONDS) -> None:
    """Until the CRD is Established and discovery serves its kind at every served version: the API
    server sets Established before its discovery handler lists the new group, and a custom resource
    applied in between is refused as an unknown apiVersion."""
    deadline = time.monotonic() + timeout
    while True:
        crd = client.get("apiextensions.k8s.io/v1", "CustomResourceDefinition", name) or {}
        conditions = (crd.get("status") or {}).get("conditions") or []
        if any(c.get("type") == "Established" and c.get("status") == "True" for c in conditions):
            client.forget_discovery()
            if _served_in_discovery(client, crd):
                return
        if time.monotonic() > deadline:
            raise KubeError(f"CustomResourceDefinition {name} not Established after {timeout:.0f}s")
        time.sleep(0.2)


def _served_in_discovery(client: KubeClient, crd: Mapping[str, Any]) -> bool:
    spec = crd.get("spec") or {}
    kind = str((spec.get("names") or {}).get("kind", ""))
    for version in spec.get("versions") or []:
        if not version.get("served"):
            continue
        try:
            client.resource(f"{spec.get('group')}/{version.get('name')}", kind)
        except KubeError as e:
            if e.status == 404:
                client.forget_discovery()
                return False
            raise
    return True


def apply_one(client: KubeClient, obj: Mapping[str, Any], live: Mapping[str, Any] | None) -> Applied:
    if live is not None:
        adopt_foreign_fields(client, live)
    result = client.apply(obj)
    if obj.get("kind") == "CustomResourceDefinition":
        wait_established(client, str((obj.get("metadata") or {})["name"]))
    return Applied(ref_of(obj), result)


def apply_all(client: KubeClient, objects: Iterable[Mapping[str, Any]],
              live: Mapping[ObjectRef, Mapping[str, Any]]) -> list[Applied]:
    """Apply every object in dependency order; the first failure stops the pass."""
    return [apply_one(client, obj, live.get(ref_of(obj))) for obj in ordered(objects)]
