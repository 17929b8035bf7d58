"""The inventory: which objects a source applied last, kept in one ConfigMap per source.

Together with the owner label it decides what prune may delete: only objects listed here. Before a
revision is applied the inventory is widened to old ∪ new and marked ``pending``, so objects created by a
pass that is killed half-way are still listed, and pruned by the next pass if that revision drops them.

Each line names the version last applied (to address the object) but an object is listed once, by group,
kind, namespace and name: inventories written before that rule (one line per version after an
``apiVersion`` change) are read as one entry per object, the last listed version winning."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from handoff.kube.client import KubeClient
from handoff.reconciler.objects import OWNER_LABEL, key_of, owner_value, unique_by_key
from handoff.report.model import ObjectRef

INVENTORY_PREFIX = "handoff-inventory-"


@dataclass(frozen=True)
class Inventory:
    revision: str
    objects: tuple[ObjectRef, ...]
    pending: str = ""  # a revision being applied: ``objects`` may hold some of its objects already


def encode(refs: Iterable[ObjectRef]) -> str:
    return "\n".join(f"{r.api_version} {r.kind} {r.namespace or '-'} {r.name}"
                     for r in sorted(unique_by_key(refs), key=key_of))


def decode(text: str) -> tuple[ObjectRef, ...]:
    out = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 4:
            api_version, kind, namespace, name = parts
            out.append(ObjectRef(api_version, kind, name, "" if namespace == "-" else namespace))
    return unique_by_key(out)


def inventory_name(source: str) -> str:
    return INVENTORY_PREFIX + owner_value(source)


def read(client: KubeClient, namespace: str, source: str) -> Inventory | None:
    cm = client.get("v1", "ConfigMap", inventory_name(source), namespace)
    if cm is None:
        return None
    data = cm.get("data") or {}
    return Inventory(revision=str(data.get("revision", "")), objects=decode(str(data.get("objects", ""))),
                     pending=str(data.get("pending", "")))


def write(client: KubeClient, namespace: str, source: str, inventory: Inventory) -> None:
    client.apply({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": inventory_name(source), "namespace": namespace,
                     "labels": {"app.kubernetes.io/managed-by": "handoff",
                                f"{OWNER_LABEL}-inventory": owner_value(source)}},
        "data": {"revision": inventory.revision, "objects": encode(inventory.objects),
                 **({"pending": inventory.pending} if inventory.pending else {})},
    })
