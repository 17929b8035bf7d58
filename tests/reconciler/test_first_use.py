"""First use and status truthfulness: ``handoff reconcile --once`` as the README shows it on a fresh
cluster, transient failures retried, one line when the namespace cannot be created, and status that says
what a pass did."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from handoff.cli import main
from handoff.kube.client import connect
from handoff.reconciler.status import FAILED
from handoff.report.model import ObjectRef
from tests.harness.tools import require_tool

from .cluster import Cluster, kustomize_app, new_cluster

pytestmark = [pytest.mark.tools, pytest.mark.slow]


def readme_once(c: Cluster, kubeconfig: Path, namespace: str) -> list[str]:
    """The README's command line, with the namespaces of this test (a fresh one for the reconciler)."""
    return [sys.executable, "-m", "handoff", "reconcile", "--once", "--kubeconfig", str(kubeconfig),
            "--repo", c.url, "--path", "app", "--revision", "main", "--token-file", str(c.token_file),
            "--namespace", namespace, "--target-namespace", c.target_ns, "--workdir", str(c.workdir)]


def env(c: Cluster) -> dict[str, str]:
    return {**os.environ, "HANDOFF_GIT_USERNAME": c.username}


def test_once_from_the_readme_on_a_fresh_cluster_creates_its_namespace(apiserver: Any, git_server: Any,
                                                                       tmp_path: Path) -> None:
    require_tool("kustomize")
    c = new_cluster(apiserver, git_server, tmp_path, kustomize_app())
    fresh = f"handoff-{uuid.uuid4().hex[:6]}"
    assert c.client.get("v1", "Namespace", fresh) is None
    done = subprocess.run(readme_once(c, apiserver.kubeconfig, fresh), capture_output=True, text=True,
                          env=env(c), timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert c.client.get("v1", "Namespace", fresh) is not None
    assert c.get("apps/v1", "Deployment", "web") is not None
    status = c.client.get("v1", "ConfigMap", "handoff-status-default", fresh)
    assert status is not None and status["data"]["result"] == "Succeeded"


def test_once_retries_a_transient_failure_instead_of_exiting(apiserver: Any, git_server: Any,
                                                            tmp_path: Path) -> None:
    require_tool("kustomize")
    c = new_cluster(apiserver, git_server, tmp_path, kustomize_app())
    log = tmp_path / "once.log"
    git_server.stop()
    try:
        proc = subprocess.Popen(readme_once(c, apiserver.kubeconfig, c.control_ns), stdout=subprocess.PIPE,
                                stderr=log.open("wb"), env=env(c))
        deadline = time.monotonic() + 120
        while "attempt 1, retrying in" not in log.read_text():
            assert proc.poll() is None, "--once exited after the first transient failure"
            assert time.monotonic() < deadline
            time.sleep(0.2)
    finally:
        git_server.start()
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, out.decode() + log.read_text()
    assert c.get("apps/v1", "Deployment", "web") is not None


def _token_for(client: Any, namespace: str, name: str) -> str:
    client.apply({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "namespace": namespace}})
    answer = client.request("POST", f"/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token",
                            body={"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                                  "spec": {"expirationSeconds": 3600}})
    return str(answer["status"]["token"])


def test_once_says_in_one_line_what_to_run_when_it_may_not_create_its_namespace(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    c = new_cluster(apiserver, git_server, tmp_path, {"app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\n"
                                                                     "metadata: {name: a}\ndata: {k: v}\n"})
    token = _token_for(c.client, c.target_ns, "limited")
    rbac = "rbac.authorization.k8s.io/v1"
    role = f"read-namespaces-{c.target_ns}"  # it may see Namespaces, not create one
    c.client.apply({"apiVersion": rbac, "kind": "ClusterRole", "metadata": {"name": role},
                    "rules": [{"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get"]}]})
    c.client.apply({"apiVersion": rbac, "kind": "ClusterRoleBinding", "metadata": {"name": role},
                    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
                    "subjects": [{"kind": "ServiceAccount", "name": "limited", "namespace": c.target_ns}]})
    config = yaml.safe_load(Path(apiserver.kubeconfig).read_text())
    config["users"][0]["user"] = {"token": token}
    kubeconfig = tmp_path / "limited.kubeconfig"
    kubeconfig.write_text(yaml.safe_dump(config))
    assert connect(kubeconfig).healthy()
    missing = f"handoff-{uuid.uuid4().hex[:6]}"
    done = subprocess.run(readme_once(c, kubeconfig, missing), capture_output=True, text=True, env=env(c),
                          timeout=300, check=False)
    assert done.returncode == 1
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    assert len(lines) == 1 and f"run: kubectl create namespace {missing}" in lines[0], done.stdout
    assert c.client.get("v1", "Namespace", missing) is None


def test_namespaced_manifests_hold_nothing_a_namespaced_reconciler_cannot_manage(capsys: Any) -> None:
    assert main(["reconciler", "manifests", "--namespaced", "--namespace", "team-a"]) == 0
    docs = list(yaml.safe_load_all(capsys.readouterr().out))
    assert docs and all(d["metadata"]["namespace"] == "team-a" for d in docs)
    assert "Namespace" not in {d["kind"] for d in docs}


def test_status_names_the_attempted_revision_on_every_pass_and_says_when_drift_was_reverted(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    require_tool("kustomize")
    c = new_cluster(apiserver, git_server, tmp_path, kustomize_app())
    rec = c.reconciler()
    source = rec.settings.sources[0]
    git_server.stop()
    try:
        first = rec.reconcile(source)  # nothing known yet: the ref being followed is named
        assert first.result == FAILED and first.attempted_revision == "main"
        assert c.status()["lastAttemptedRevision"] == "main"
    finally:
        git_server.start()
    applied = rec.reconcile(source)
    assert applied.ok, applied.message
    c.client.patch(ObjectRef("v1", "ConfigMap", "web-config", c.target_ns), {"data": {"mode": "debug"}},
                   content_type="application/merge-patch+json", params={"fieldManager": "intruder"})
    reverted = rec.reconcile(source)
    assert reverted.ok and reverted.message == "reverted drift in 1 object(s)"
    assert c.status()["message"] == "reverted drift in 1 object(s)"
    assert c.status()["lastAttemptedRevision"] == applied.attempted_revision
    assert rec.reconcile(source).message == "no change"
    warn = c.reconciler(drift_mode="warn")
    c.client.patch(ObjectRef("v1", "ConfigMap", "web-config", c.target_ns), {"data": {"mode": "debug"}},
                   content_type="application/merge-patch+json", params={"fieldManager": "intruder"})
    assert warn.reconcile(warn.settings.sources[0]).message == "drift detected in 1 object(s)"


def test_status_names_the_attempted_revision_when_render_or_the_guards_stop_it(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    require_tool("kustomize")
    c = new_cluster(apiserver, git_server, tmp_path, kustomize_app())
    rec = c.reconciler()
    source = rec.settings.sources[0]
    applied = rec.reconcile(source)
    assert applied.ok, applied.message
    unrenderable = c.repo.commit({"app/kustomization.yaml": "resources: [missing.yaml]\n"}, "render fails")
    failed = rec.reconcile(source)
    assert failed.result == FAILED and failed.error_kind == "render", failed.message
    assert c.status()["lastAttemptedRevision"] == unrenderable
    assert c.status()["lastAppliedRevision"] == applied.applied_revision
    outside = c.repo.commit({"app/kustomization.yaml": kustomize_app()["app/kustomization.yaml"],
                             "app/configmap.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-config\n"
                                                   "  namespace: kube-system\ndata:\n  mode: prod\n"},
                            "outside the default grant")
    refused = rec.reconcile(source)
    assert refused.result == "Refused" and "kube-system" in refused.message, refused.message
    assert c.status()["lastAttemptedRevision"] == outside
    assert c.status()["lastAppliedRevision"] == applied.applied_revision
