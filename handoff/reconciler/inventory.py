"""The inventory: which objects a source applied last, kept in one ConfigMap per source.

Together with the owner label it decides what prune may delete: only objects listed here. Before a
revision is applied the inventory is widened to old ∪ new and marked ``pending``, so objects created by a
pass that is killed half-way are still listed, and pruned by the next pass if that revision drops them.
The pending inventory is also the pass's journal: ``base`` (what was listed before the first unfinished
pass) and ``creating`` (the objects an unfinished pass creates), so that after a restart a rejection
deletes what the dead pass created and lists ``base`` again.

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
    base: tuple[ObjectRef, ...] | None = None  # while pending: the objects listed before it (None: unknown)
    creating: tuple[ObjectRef, ...] = ()  # while pending: objects the unfinished passes create

    def listed_before(self) -> tuple[ObjectRef, ...]:
        """The objects listed before the unfinished passes (all of them when none is pending, or when an
        older inventory did not journal it)."""
        return self.base if self.pending and self.base is not None else self.objects


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
                     pending=str(data.get("pending", "")),
                     base=decode(str(data["base"])) if "base" in data else None,
                     creating=decode(str(data.get("creating", ""))))


def write(client: KubeClient, namespace: str, source: str, inventory: Inventory) -> None:
    client.apply({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": inventory_name(source), "namespace": namespace,
                     "labels": {"app.kubernetes.io/managed-by": "handoff",
                                f"{OWNER_LABEL}-inventory": owner_value(source)}},
        "data": {"revision": inventory.revision, "objects": encode(inventory.objects),
                 **({"pending": inventory.pending} if inventory.pending else {}),
                 **({"base": encode(inventory.base)} if inventory.pending and inventory.base is not None
                    else {}),
                 **({"creating": encode(inventory.creating)} if inventory.pending and inventory.creating
                    else {})},
    })
