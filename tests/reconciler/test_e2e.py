"""The reconciler against the harness's real kube-apiserver + etcd and git server."""

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from handoff.reconciler.config import Authority
from handoff.reconciler.status import FAILED, REFUSED, SUCCEEDED
from handoff.report.model import ObjectRef
from tests.harness.tools import require_tool

from .cluster import Cluster, kustomize_app, new_cluster

pytestmark = [pytest.mark.tools, pytest.mark.slow]


@pytest.fixture
def cluster(apiserver: Any, git_server: Any, tmp_path: Path) -> Cluster:
    require_tool("kustomize")
    return new_cluster(apiserver, git_server, tmp_path, kustomize_app())


def image_of(c: Cluster) -> str:
    deploy = c.get("apps/v1", "Deployment", "web")
    assert deploy is not None
    return str(deploy["spec"]["template"]["spec"]["containers"][0]["image"])


def eventually(check: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.2)


def test_kustomize_app_appears_then_new_image_updates_the_deployment(cluster: Cluster) -> None:
    rec = cluster.reconciler()
    source = rec.settings.sources[0]
    first = rec.reconcile(source)
    assert first.result == SUCCEEDED, first.message
    for kind, name in (("Deployment", "web"), ("Service", "web"), ("ConfigMap", "web-config")):
        obj = cluster.get("apps/v1" if kind == "Deployment" else "v1", kind, name)
        assert obj is not None and obj["metadata"]["labels"]["handoff.dev/source"] == source.name
    assert image_of(cluster) == "registry.example/web:1.0.0"
    sha = cluster.repo.commit({"app/deployment.yaml": kustomize_app("registry.example/web:1.1.0")[
        "app/deployment.yaml"]}, "bump web")
    second = rec.reconcile(source)
    assert second.result == SUCCEEDED and second.attempted_revision == sha
    assert image_of(cluster) == "registry.example/web:1.1.0"
    assert cluster.status()["lastAppliedRevision"] == sha


def test_no_false_drift_over_several_loops(cluster: Cluster) -> None:
    rec = cluster.reconciler()
    source = rec.settings.sources[0]
    assert rec.reconcile(source).ok
    for _ in range(3):
        # a fresh reconciler (as after a restart) knows no resourceVersions, so every object is
        # dry-run applied and compared with live
        fresh = cluster.reconciler()
        result = fresh.reconcile(source)
        assert result.ok and result.message == "no change"
        assert result.drift == (), [f for d in result.drift for f in d.fields]
        assert len(fresh.state[source.name].in_sync) == 3  # all three were compared and found in sync
        assert rec.reconcile(source).drift == ()


def test_change_by_another_field_manager_is_reverted_and_the_manager_named(cluster: Cluster) -> None:
    rec = cluster.reconciler()
    source = rec.settings.sources[0]
    assert rec.reconcile(source).ok
    cluster.client.patch(
        _ref("v1", "ConfigMap", "web-config", cluster.target_ns), {"data": {"mode": "debug"}},
        content_type="application/merge-patch+json", params={"fieldManager": "intruder"})
    result = rec.reconcile(source)  # the next interval
    assert [(str(d.ref), [(f.path, f.manager) for f in d.fields]) for d in result.drift] == [
        (f"ConfigMap/{cluster.target_ns}/web-config", [("data.mode", "intruder")])]
    cm = cluster.get("v1", "ConfigMap", "web-config")
    assert cm is not None and cm["data"]["mode"] == "prod"
    report = cluster.drift_report()
    assert report["reverted"] and report["objects"][0]["fields"][0]["manager"] == "intruder"
    events = list(cluster.client.list("v1", "Event", namespace=cluster.target_ns))
    reverted = [e for e in events if e["reason"] == "DriftReverted"]
    assert reverted and "data.mode by intruder" in reverted[0]["message"]
    assert reverted[0]["involvedObject"]["name"] == "web-config"
    assert rec.reconcile(source).drift == ()


def test_kubectl_edit_additions_are_removed(cluster: Cluster) -> None:
    rec = cluster.reconciler()
    source = rec.settings.sources[0]
    assert rec.reconcile(source).ok
    cluster.client.patch(
        _ref("v1", "Service", "web", cluster.target_ns), {"metadata": {"labels": {"debug": "on"}}},
        content_type="application/merge-patch+json", params={"fieldManager": "kubectl-edit"})
    result = rec.reconcile(source)
    assert [(f.path, f.manager) for d in result.drift for f in d.fields] == [("metadata.labels.debug",
                                                                               "kubectl-edit")]
    svc = cluster.get("v1", "Service", "web")
    assert svc is not None and "debug" not in svc["metadata"]["labels"]


def test_drift_warn_mode_reports_without_reverting(cluster: Cluster) -> None:
    rec = cluster.reconciler(drift_mode="warn")
    source = rec.settings.sources[0]
    assert rec.reconcile(source).ok
    cluster.client.patch(_ref("v1", "ConfigMap", "web-config", cluster.target_ns), {"data": {"mode": "debug"}},
                         content_type="application/merge-patch+json", params={"fieldManager": "intruder"})
    assert rec.reconcile(source).drift
    cm = cluster.get("v1", "ConfigMap", "web-config")
    assert cm is not None and cm["data"]["mode"] == "debug"


def test_deleted_file_is_pruned_but_unlabelled_objects_never(cluster: Cluster) -> None:
    rec = cluster.reconciler()
    source = rec.settings.sources[0]
    assert rec.reconcile(source).ok
    # someone takes the Service out of handoff's hands by removing the owner label
    cluster.client.patch(_ref("v1", "Service", "web", cluster.target_ns),
                         [{"op": "remove", "path": "/metadata/labels/handoff.dev~1source"}])
    files = kustomize_app(with_service=False, with_configmap=False)
    cluster.repo.commit({"app/kustomization.yaml": files["app/kustomization.yaml"], "app/service.yaml": None,
                         "app/configmap.yaml": None}, "drop service and config")
    result = rec.reconcile(source)
    assert result.ok, result.message
    assert [str(r) for r in result.pruned] == [f"ConfigMap/{cluster.target_ns}/web-config"]
    assert cluster.get("v1", "ConfigMap", "web-config") is None
    assert cluster.get("v1", "Service", "web") is not None
    assert "no longer labelled" in json.loads(cluster.status()["prune"])["kept"][0]


def test_empty_render_is_refused_and_nothing_deleted(cluster: Cluster) -> None:
    rec = cluster.reconciler()
    source = rec.settings.sources[0]
    assert rec.reconcile(source).ok
    cluster.repo.commit({"app/kustomization.yaml": "resources: []\n"}, "oops")
    result = rec.reconcile(source)
    assert result.result == REFUSED and "empty render" in result.message
    assert cluster.get("apps/v1", "Deployment", "web") is not None
    assert cluster.get("v1", "ConfigMap", "web-config") is not None
    assert cluster.status()["result"] == REFUSED


def test_invalid_commit_is_not_applied_and_status_explains(cluster: Cluster) -> None:
    rec = cluster.reconciler()
    source = rec.settings.sources[0]
    good = rec.reconcile(source)
    assert good.ok
    broken = kustomize_app("registry.example/web:2.0.0")["app/deployment.yaml"].replace(
        "  selector:", "  replicaz: 3\n  selector:")
    bad_sha = cluster.repo.commit({"app/deployment.yaml": broken,
                                   "app/configmap.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n"
                                                         "  name: web-config\ndata:\n  mode: changed\n"}, "typo")
    result = rec.reconcile(source)
    assert result.result == FAILED
    assert image_of(cluster) == "registry.example/web:1.0.0"
    cm = cluster.get("v1", "ConfigMap", "web-config")
    assert cm is not None and cm["data"]["mode"] == "prod"  # all or nothing: the valid part is not applied
    status = cluster.status()
    assert status["lastAppliedRevision"] == good.applied_revision
    assert status["lastAttemptedRevision"] == bad_sha
    assert "replicaz" in status["message"] and "keeping revision" in status["message"]


def test_git_server_down_keeps_last_state_and_backs_off(cluster: Cluster, git_server: Any) -> None:
    rec = cluster.reconciler()
    source = rec.settings.sources[0]
    assert rec.reconcile(source).ok
    git_server.stop()
    try:
        first, second = rec.reconcile(source), rec.reconcile(source)
        assert first.result == second.result == FAILED and first.error_kind == "git"
        assert cluster.get("apps/v1", "Deployment", "web") is not None
        message = cluster.status()["message"]
        assert "keeping revision" in message and "attempt 2, retrying in 2s" in message
        assert rec.state[source.name].failures == 2
        # the token never lands in status, or in the clone's config (it travels in the environment only)
        assert str(git_server.password) not in json.dumps(cluster.status())
        assert str(git_server.password) not in (cluster.workdir / source.name / ".git" / "config").read_text()
    finally:
        git_server.start()
    assert rec.reconcile(source).ok
    assert rec.state[source.name].failures == 0


def test_apiserver_restart_mid_loop_converges(cluster: Cluster, apiserver: Any) -> None:
    rec = cluster.reconciler()
    stop = threading.Event()
    loop = threading.Thread(target=rec.run, args=(stop, 0.2), daemon=True)
    loop.start()
    try:
        eventually(lambda: cluster.status().get("result") == SUCCEEDED)
        cluster.repo.commit({"app/deployment.yaml": kustomize_app("registry.example/web:3.0.0")[
            "app/deployment.yaml"]}, "bump during an outage")
        apiserver.restart()
        eventually(lambda: image_of(cluster) == "registry.example/web:3.0.0", timeout=120)
    finally:
        stop.set()
        loop.join(30)


def _ref(api_version: str, kind: str, name: str, namespace: str) -> ObjectRef:
    return ObjectRef(api_version, kind, name, namespace)


CRD = """apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec: {type: object, properties: {size: {type: integer}}}
"""


def test_namespace_crd_and_custom_resource_in_one_revision(apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    c = new_cluster(apiserver, git_server, tmp_path, {"app/README": "empty"})
    ns = f"{c.target_ns}-extra"
    c.repo.commit({
        "app/00-widget.yaml": f"apiVersion: example.com/v1\nkind: Widget\nmetadata: {{name: w1, namespace: {ns}}}\n"
                              "spec: {size: 3}\n",
        "app/01-crd.yaml": CRD,
        "app/02-ns.yaml": f"apiVersion: v1\nkind: Namespace\nmetadata: {{name: {ns}}}\n",
    }, "crd, namespace and a custom resource, in the 'wrong' file order")
    grant = Authority(namespaces=(c.target_ns, ns), cluster_kinds=("Namespace", "CustomResourceDefinition"))
    rec = c.reconciler(renderer="plain", authority=grant)  # cluster kinds: only when the operator grants them
    result = rec.reconcile(rec.settings.sources[0])
    assert result.ok, result.message
    widget = c.client.get("example.com/v1", "Widget", "w1", ns)
    assert widget is not None and widget["spec"]["size"] == 3
    assert rec.reconcile(rec.settings.sources[0]).drift == ()


def test_policy_violation_is_not_applied(cluster: Cluster) -> None:
    rec = cluster.reconciler()
    source = rec.settings.sources[0]
    assert rec.reconcile(source).ok
    cluster.repo.commit({"app/deployment.yaml": kustomize_app("registry.example/web:latest")["app/deployment.yaml"]},
                        "latest tag")
    result = rec.reconcile(source)
    assert result.result == FAILED and "latest" in result.message
    assert image_of(cluster) == "registry.example/web:1.0.0"
