"""f14c1 (atk14c C1-C4, C11): a deleted Source object acts on the spec it has at deletion, as its own
identity, and keeps its finalizer (saying why in its status) while it cannot; a tenant's loopback URL is
refused with a status unless the operator allows private hosts. Real kube-apiserver + etcd and git
server, driven step by step."""

from __future__ import annotations

from typing import Any

import pytest

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


def _served(c: Cluster, *, allow_private_hosts: bool = True) -> tuple[Reconciler, SourceObjects]:
    rec = Reconciler(Settings(sources=(), namespace=c.control_ns, leader_election=False), c.client, c.workdir)
    return rec, SourceObjects(rec, namespace=c.target_ns, allow_private_hosts=allow_private_hosts)


def _look(objects: SourceObjects, rec: Reconciler) -> None:
    objects.sources_watch.relist()
    rec.drain()


def _deployer(c: Cluster) -> dict[str, Any]:
    c.client.apply({"apiVersion": RBAC, "kind": "Role", "metadata": {"name": "deployer", "namespace": c.target_ns},
                    "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["*"]}]})
    binding = {"apiVersion": RBAC, "kind": "RoleBinding",
               "metadata": {"name": "deployer", "namespace": c.target_ns},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "deployer"},
               "subjects": [{"kind": "ServiceAccount", "name": "deployer", "namespace": c.target_ns}]}
    c.client.apply(binding)
    return binding


@pytest.mark.parametrize("prune", [True, False])
def test_a_deleted_source_its_identity_may_not_act_for_keeps_its_finalizer_and_says_why(
        cluster: Cluster, prune: bool) -> None:  # noqa: F811
    """Prune (prune: true) and orphan (prune: false, which keeps no finalizer of its own: it was put there
    by the earlier spec) both run as the Source's ServiceAccount: a 403 keeps the finalizer, the status
    says why, and once RBAC allows it again the next look finishes the job."""
    c = cluster
    binding = _deployer(c)
    rec, objects = _served(c)
    c.client.create(source_object(c, serviceAccountName="deployer"))
    _look(objects, rec)
    assert [r.ok for r in rec.run_once()] == [True]
    _look(objects, rec)
    before = c.get("v1", "ConfigMap", "one")
    assert before is not None
    c.client.delete(RBAC, "RoleBinding", "deployer", c.target_ns)
    if not prune:
        c.client.patch(ObjectRef(API_VERSION, KIND, "web", c.target_ns), {"spec": {"prune": False}},
                       content_type="application/merge-patch+json")
    c.client.delete(API_VERSION, KIND, "web", c.target_ns)
    restarted, restarted_objects = _served(c)
    _look(restarted_objects, restarted)
    held = get_source(c)
    assert held is not None and PRUNE_FINALIZER in held["metadata"]["finalizers"]
    condition = ready(c)
    assert condition is not None and condition["reason"] == "DeletionBlocked", condition
    assert "403" in condition["message"] or "forbidden" in condition["message"].lower()
    live = c.get("v1", "ConfigMap", "one")
    assert live is not None and live["metadata"]["labels"][OWNER_LABEL]  # untouched
    c.client.apply(binding)  # RBAC allows it again
    _look(restarted_objects, restarted)
    assert get_source(c) is None
    after = c.get("v1", "ConfigMap", "one")
    if prune:
        assert after is None
    else:
        assert after is not None and after["metadata"]["uid"] == before["metadata"]["uid"]
        assert OWNER_LABEL not in (after["metadata"].get("labels") or {})


def test_a_suspended_source_carries_no_finalizer_and_its_deletion_orphans(cluster: Cluster) -> None:  # noqa: F811
    c = cluster
    rec, objects = _served(c)
    c.client.create(source_object(c))
    _look(objects, rec)
    assert [r.ok for r in rec.run_once()] == [True]
    _look(objects, rec)
    c.client.patch(ObjectRef(API_VERSION, KIND, "web", c.target_ns), {"spec": {"suspend": True}},
                   content_type="application/merge-patch+json")
    _look(objects, rec)
    assert PRUNE_FINALIZER not in ((get_source(c) or {})["metadata"].get("finalizers") or ())
    c.client.patch(ObjectRef(API_VERSION, KIND, "web", c.target_ns), {"spec": {"suspend": False}},
                   content_type="application/merge-patch+json")
    _look(objects, rec)
    assert PRUNE_FINALIZER in ((get_source(c) or {})["metadata"].get("finalizers") or ())  # resumed: back


def test_a_deleted_sources_prune_defers_what_a_source_not_known_now_may_hold(cluster: Cluster) -> None:  # noqa: F811
    """The finalizer's prune follows the pass's rule: another served source whose revision does not render
    now may have taken the object over, so it is not deleted, and the finalizer stays, saying why."""
    c = cluster
    rec, objects = _served(c)
    c.client.create(source_object(c, "web", path="app"))
    c.client.create(source_object(c, "api", path="other"))
    _look(objects, rec)
    assert [r.ok for r in rec.run_once()] == [True, True]
    c.repo.commit({"other/broken.yaml": "kind: [unclosed\n"}, "api's revision does not render")
    c.client.delete(API_VERSION, KIND, "web", c.target_ns)
    _look(objects, rec)
    assert c.get("v1", "ConfigMap", "one") is not None
    assert get_source(c, "web") is not None, "the finalizer went while its prune was deferred"
    condition = ready(c, "web")
    assert condition is not None and condition["reason"] == "DeletionBlocked"
    assert "deferred" in condition["message"] and f"{c.target_ns}/api" in condition["message"]


def test_a_tenant_url_on_the_reconcilers_machine_is_refused_with_a_status(cluster: Cluster) -> None:  # noqa: F811
    c = cluster  # the harness's git server listens on 127.0.0.1
    rec, objects = _served(c, allow_private_hosts=False)
    c.client.create(source_object(c))
    _look(objects, rec)
    assert rec.sources() == ()
    condition = ready(c)
    assert condition is not None and condition["status"] == "False" and condition["reason"] == "URLRefused"
    assert "127.0.0.1" in condition["message"] and "allow-private-hosts" in condition["message"]
