"""atk18d: a user removes the ``handoff.dev/prune`` finalizer by hand from a deleted Source whose prune is
blocked (its ServiceAccount lost its RBAC: DeletionBlocked), the usual way out of a stuck deletion. The
object then goes; ``deleted`` (or a relist's name-only report) ends the served version, whose finalizers
still list ``handoff.dev/prune``, so ``_end`` assumes the finalizer pruned and does nothing: the
inventory and status ConfigMaps stay (docs: "deleted either way") and the objects keep the owner label. A
later Source of the same name inherits that inventory and its first pass prunes the ended Source's
objects. Real kube-apiserver + etcd and git server."""

from __future__ import annotations

from typing import Any

import pytest

from handoff.reconciler import inventory, status
from handoff.reconciler.config import Settings
from handoff.reconciler.loop import Reconciler
from handoff.reconciler.objects import OWNER_LABEL
from handoff.reconciler.sourcecrd import API_VERSION, KIND, PRUNE_FINALIZER
from handoff.reconciler.sourceobjects import SourceObjects
from handoff.report.model import ObjectRef

from .cluster import Cluster
from .test_source_crd_live import cluster, get_source, ready, source_object  # noqa: F401 - fixture

pytestmark = [pytest.mark.tools, pytest.mark.slow]
RBAC = "rbac.authorization.k8s.io/v1"


def _deployer(c: Cluster) -> dict[str, Any]:
    c.client.apply({"apiVersion": RBAC, "kind": "Role", "metadata": {"name": "deployer", "namespace": c.target_ns},
                    "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["*"]}]})
    binding = {"apiVersion": RBAC, "kind": "RoleBinding",
               "metadata": {"name": "deployer", "namespace": c.target_ns},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "deployer"},
               "subjects": [{"kind": "ServiceAccount", "name": "deployer", "namespace": c.target_ns}]}
    c.client.apply(binding)
    return binding


def test_a_finalizer_removed_by_hand_still_ends_the_source(cluster: Cluster) -> None:  # noqa: F811
    c = cluster
    _deployer(c)
    rec = Reconciler(Settings(sources=(), namespace=c.control_ns, leader_election=False), c.client, c.workdir)
    objects = SourceObjects(rec, namespace=c.target_ns, allow_private_hosts=True)
    c.client.create(source_object(c, serviceAccountName="deployer"))  # prune: true, the finalizer is put on
    objects.sources_watch.relist()
    rec.drain()
    assert [r.ok for r in rec.run_once()] == [True]
    objects.sources_watch.relist()
    rec.drain()
    assert PRUNE_FINALIZER in (get_source(c) or {})["metadata"]["finalizers"]
    c.client.delete(RBAC, "RoleBinding", "deployer", c.target_ns)  # the prune will be refused (403)
    c.client.delete(API_VERSION, KIND, "web", c.target_ns)
    objects.sources_watch.relist()
    rec.drain()
    assert (ready(c) or {}).get("reason") == "DeletionBlocked"
    last = get_source(c) or {}
    c.client.patch(ObjectRef(API_VERSION, KIND, "web", c.target_ns), {"metadata": {"finalizers": []}},
                   content_type="application/merge-patch+json")  # the user gives up on the prune
    assert get_source(c) is None
    objects.deleted(last)  # the watch's DELETED event
    rec.drain()
    name = f"{c.target_ns}/web"
    left = [cm for cm in (inventory.inventory_name(name), status.status_name(name))
            if c.client.get("v1", "ConfigMap", cm, c.control_ns) is not None]
    assert left == [], f"a Source whose finalizer was removed by hand must not leave its ConfigMaps: {left}"


def test_a_source_deleted_before_its_finalizer_was_put_on_is_orphaned(cluster: Cluster) -> None:  # noqa: F811
    """The same trust in the cached finalizers, with no user touching them: a served ``prune: false``
    Source is edited to ``prune: true`` and deleted at once. ``_keep_finalizer`` patches the finalizer on
    (404: the object is gone) and records it in ``objects`` although the patch failed. The DELETED event
    (finalizers: none) then ends the cached version, ``_end`` sees the finalizer it believes is there and
    neither orphans nor forgets: the ConfigMap keeps the owner label and the inventory stays."""
    c = cluster
    rec = Reconciler(Settings(sources=(), namespace=c.control_ns, leader_election=False), c.client, c.workdir)
    objects = SourceObjects(rec, namespace=c.target_ns, allow_private_hosts=True)
    c.client.create(source_object(c, prune=False))
    objects.sources_watch.relist()
    rec.drain()
    assert [r.ok for r in rec.run_once()] == [True]
    objects.sources_watch.relist()
    rec.drain()
    c.client.patch(ObjectRef(API_VERSION, KIND, "web", c.target_ns), {"spec": {"prune": True}},
                   content_type="application/merge-patch+json")
    edited = get_source(c) or {}
    assert PRUNE_FINALIZER not in (edited["metadata"].get("finalizers") or ())
    c.client.delete(API_VERSION, KIND, "web", c.target_ns)  # no finalizer yet: gone at once
    assert get_source(c) is None
    objects.changed(edited)  # the watch's MODIFIED, then DELETED (with the same spec, no finalizer)
    objects.deleted(edited)
    rec.drain()
    name = f"{c.target_ns}/web"
    left = [cm for cm in (inventory.inventory_name(name), status.status_name(name))
            if c.client.get("v1", "ConfigMap", cm, c.control_ns) is not None]
    labels = ((c.get("v1", "ConfigMap", "one") or {}).get("metadata") or {}).get("labels") or {}
    assert left == [] and OWNER_LABEL not in labels, \
        ("a Source deleted without the finalizer must be orphaned (owner label removed, ConfigMaps deleted): "
         f"left {left}, labels {labels}")
