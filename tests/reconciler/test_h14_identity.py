"""Issue 14 (after atk14): one identity per object, the reconciler's identity off limits, and a revision
the API server rejects half-way put back (units, then a real kube-apiserver + etcd and git server)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from handoff.reconciler import inventory
from handoff.reconciler.authority import why_denied
from handoff.reconciler.config import Authority, PruneSettings, Settings, Source
from handoff.reconciler.guard import runs_as_reconciler
from handoff.reconciler.loop import Reconciler
from handoff.reconciler.manifests import APP
from handoff.reconciler.objects import key_of, labelled, ref_of
from handoff.reconciler.prune import plan
from handoff.reconciler.status import REFUSED
from handoff.reconciler.tenancy import authority_for
from handoff.report.model import ObjectRef

from .cluster import new_cluster

RBAC = "rbac.authorization.k8s.io/v1"
CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: app}}\ndata: {{rev: \"{rev}\"}}\n"
SETTINGS = Settings(sources=(Source(name="a", url="https://git.example/x.git"),), namespace="handoff-system")


def test_a_cluster_scoped_object_loses_its_metadata_namespace() -> None:
    role = {"apiVersion": RBAC, "kind": "ClusterRole", "metadata": {"name": "r", "namespace": "app"}}
    assert ref_of(labelled(role, "a", None)).namespace == ""
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}
    assert ref_of(labelled(cm, "a", "app")).namespace == "app"


def test_an_event_in_either_group_is_one_object() -> None:
    core = ObjectRef("v1", "Event", "e", "app")
    moved = ObjectRef("events.k8s.io/v1", "Event", "e", "app")
    assert key_of(core) == key_of(moved)
    assert key_of(ObjectRef("apps/v1", "Deployment", "e", "app")) != \
        key_of(ObjectRef("v1", "Deployment", "e", "app"))
    assert plan([core], [moved], PruneSettings()).delete == ()
    # a grant naming the core Event covers its other group too
    deny = Authority(namespaces=("app",), denied_kinds=("/Event",))
    assert why_denied(moved, deny) == "kind Event is denied"


def test_pods_run_as_the_reconcilers_service_account_are_its_identity() -> None:
    def workload(kind: str, spec: dict[str, Any], namespace: str = "handoff-system") -> dict[str, Any]:
        # the group as the API server serves the kind: the guard tells a core Pod from a custom `Pod`
        api_version = {"Pod": "v1", "CronJob": "batch/v1", "Job": "batch/v1"}.get(kind, "apps/v1")
        return {"apiVersion": api_version, "kind": kind, "metadata": {"name": "w", "namespace": namespace},
                "spec": spec}

    as_app = {"serviceAccountName": APP}
    assert runs_as_reconciler(workload("Pod", as_app), SETTINGS)
    assert runs_as_reconciler(workload("Pod", {"serviceAccount": APP}), SETTINGS)
    assert runs_as_reconciler(workload("Deployment", {"template": {"spec": as_app}}), SETTINGS)
    assert runs_as_reconciler(workload("CronJob", {"jobTemplate": {"spec": {"template": {"spec": as_app}}}}),
                              SETTINGS)
    assert not runs_as_reconciler(workload("Deployment", {"template": {"spec": as_app}}, "team-a"), SETTINGS)
    assert not runs_as_reconciler(workload("Pod", {"serviceAccountName": "default"}), SETTINGS)


def test_the_control_namespace_is_denied_without_a_tenants_file() -> None:
    grant = authority_for("handoff-system", (), "handoff-system")
    assert "handoff-system" in grant.denied_namespaces and grant.cluster_kinds == ()


def test_prune_keeps_an_object_another_source_desires() -> None:
    secret = ObjectRef("v1", "Secret", "db", "app")
    kept = plan([secret], [], PruneSettings(min_inventory=10), claimed={key_of(secret): "team-b"})
    assert kept.delete == () and "team-b" in kept.kept[0][1]


@pytest.mark.tools
@pytest.mark.slow
def test_an_older_inventory_entry_with_a_namespace_on_a_cluster_scoped_object_is_the_same_object(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    name = f"h14-{uuid.uuid4().hex[:6]}"
    role = (f"apiVersion: {RBAC}\nkind: ClusterRole\nmetadata: {{name: {name}}}\n"
            "rules: [{apiGroups: [\"\"], resources: [configmaps], verbs: [get]}]\n")
    c = new_cluster(apiserver, git_server, tmp_path, {"app/cm.yaml": CM.format(rev=1), "app/role.yaml": role})
    rec = c.reconciler(renderer="plain", authority=Authority(namespaces=(c.target_ns,),
                                                             cluster_kinds=("ClusterRole",)))
    source = rec.settings.sources[0]
    try:
        assert rec.reconcile(source).ok
        uid = c.client.get(RBAC, "ClusterRole", name)["metadata"]["uid"]  # type: ignore[index]
        # an inventory written before the rule: the ClusterRole listed under the manifest's namespace
        old = inventory.read(c.client, c.control_ns, source.name)
        assert old is not None
        stale = tuple(ObjectRef(r.api_version, r.kind, r.name, c.target_ns) if r.kind == "ClusterRole" else r
                      for r in old.objects)
        inventory.write(c.client, c.control_ns, source.name, inventory.Inventory("", stale))
        c.repo.commit({"app/cm.yaml": CM.format(rev=2)}, "a new revision")
        result = rec.reconcile(source)
        assert result.ok and not result.pruned, result.message
        assert c.client.get(RBAC, "ClusterRole", name)["metadata"]["uid"] == uid  # type: ignore[index]
    finally:
        c.client.delete(RBAC, "ClusterRole", name)


@pytest.mark.tools
@pytest.mark.slow
def test_a_deployment_running_as_the_reconcilers_service_account_is_refused(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    c = new_cluster(apiserver, git_server, tmp_path, {"app/cm.yaml": CM.format(rev=1)})
    rec = c.reconciler(renderer="plain", authority=Authority(namespaces=("*",)))
    source = rec.settings.sources[0]
    assert rec.reconcile(source).ok
    c.repo.commit({"app/deploy.yaml": f"""apiVersion: apps/v1
kind: Deployment
metadata: {{name: borrow, namespace: {c.control_ns}}}
spec:
  selector: {{matchLabels: {{app: borrow}}}}
  template:
    metadata: {{labels: {{app: borrow}}}}
    spec:
      serviceAccountName: {APP}
      containers: [{{name: main, image: "registry.example/x@sha256:{"0" * 64}"}}]
"""}, "run as the reconciler")
    result = rec.reconcile(source)
    assert result.result == REFUSED and "ServiceAccount" in result.message, result.message
    assert c.client.get("apps/v1", "Deployment", "borrow", c.control_ns) is None


@pytest.mark.tools
@pytest.mark.slow
def test_a_rejection_at_apply_after_a_restart_puts_back_the_previous_revision(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    """A fresh process (nothing in memory) re-renders the inventory's revision to put back what it changed."""
    c = new_cluster(apiserver, git_server, tmp_path, {"app/cm.yaml": CM.format(rev=1)})
    c.client.apply({"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "cms", "namespace": c.target_ns},
                    "spec": {"hard": {"count/configmaps": "3"}}})
    first = c.reconciler(renderer="plain")
    assert first.reconcile(first.settings.sources[0]).ok
    uid = c.get("v1", "ConfigMap", "app")["metadata"]["uid"]  # type: ignore[index]
    # no quota controller in the harness: publish the quota's status as it would (room for one more)
    c.client.request("PATCH", f"/api/v1/namespaces/{c.target_ns}/resourcequotas/cms/status",
                     body={"status": {"hard": {"count/configmaps": "3"}, "used": {"count/configmaps": "2"}}},
                     content_type="application/merge-patch+json")
    extra = "".join(f"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: extra-{i}}}\ndata: {{a: b}}\n"
                    for i in range(2))
    c.repo.commit({"app/cm.yaml": CM.format(rev=2), "app/zz-extra.yaml": extra}, "two more ConfigMaps")
    restarted = Reconciler(first.settings, c.client, c.workdir)
    result = restarted.reconcile(restarted.settings.sources[0])
    assert not result.ok and "extra-1" in result.message and "exceeded quota" in result.message, result.message
    cm = c.get("v1", "ConfigMap", "app")
    assert cm is not None and cm["data"]["rev"] == "1" and cm["metadata"]["uid"] == uid
    assert c.get("v1", "ConfigMap", "extra-0") is None
    found = inventory.read(c.client, c.control_ns, restarted.settings.sources[0].name)
    assert found is not None and not found.pending
