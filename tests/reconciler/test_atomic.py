"""Atomic revisions: nothing of a revision is live until every object passed the server-side dry-run,
and a revision cut off after preflight is completed by the next pass."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from handoff.reconciler.config import Authority
from handoff.reconciler.status import FAILED, SUCCEEDED

from .cluster import Cluster, new_cluster

pytestmark = [pytest.mark.tools, pytest.mark.slow]


def config(mode: str, password: str) -> str:
    return (f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: settings}}\ndata: {{mode: {mode}}}\n---\n"
            f"apiVersion: v1\nkind: Secret\nmetadata: {{name: creds}}\nstringData: {{password: {password}}}\n")


def deployment(selector: str, label: str, image: str = "registry.example/web:1.0.0") -> str:
    return f"""apiVersion: apps/v1
kind: Deployment
metadata: {{name: web}}
spec:
  selector: {{matchLabels: {{app: {selector}}}}}
  template:
    metadata: {{labels: {{app: {label}}}}}
    spec:
      containers:
        - name: web
          image: {image}
          resources:
            requests: {{cpu: 100m, memory: 64Mi}}
            limits: {{cpu: 200m, memory: 128Mi}}
"""


def secret_password(c: Cluster) -> str:
    secret = c.get("v1", "Secret", "creds")
    assert secret is not None
    return base64.b64decode(secret["data"]["password"]).decode()


def test_a_rejected_deployment_leaves_the_revisions_configmap_and_secret_unapplied(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    c = new_cluster(apiserver, git_server, tmp_path, {"app/config.yaml": config("prod", "one"),
                                                      "app/web.yaml": deployment("web", "web")})
    rec = c.reconciler(renderer="plain")
    source = rec.settings.sources[0]
    good = rec.reconcile(source)
    assert good.ok, good.message
    bad = c.repo.commit({"app/config.yaml": config("changed", "two"),
                         "app/web.yaml": deployment("web", "other", "registry.example/web:2.0.0")},
                        "selector no longer matches the template")
    result = rec.reconcile(source)
    assert result.result == FAILED
    cm = c.get("v1", "ConfigMap", "settings")
    assert cm is not None and cm["data"]["mode"] == "prod"
    assert secret_password(c) == "one"
    status = c.status()
    assert status["lastAppliedRevision"] == good.applied_revision
    assert status["lastAttemptedRevision"] == bad
    assert "Deployment" in status["message"] and "422" in status["message"], status["message"]
    assert "keeping revision" in status["message"]


def test_a_rejection_in_a_namespace_the_revision_creates_still_changes_no_existing_object(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    """Objects in a new Namespace can only be dry-run once it exists: the Namespace goes first, then their
    dry-run, and only then anything else; the existing ConfigMap and Secret keep their values."""
    c = new_cluster(apiserver, git_server, tmp_path, {"app/config.yaml": config("prod", "one")})
    extra = f"{c.target_ns}-new"
    rec = c.reconciler(renderer="plain", authority=Authority(namespaces=(c.target_ns, extra),
                                                             cluster_kinds=("Namespace",)))
    source = rec.settings.sources[0]
    good = rec.reconcile(source)
    assert good.ok, good.message
    bad = c.repo.commit({
        "app/config.yaml": config("changed", "two"),
        "app/ns.yaml": f"apiVersion: v1\nkind: Namespace\nmetadata: {{name: {extra}}}\n",
        "app/web.yaml": deployment("web", "other").replace("metadata: {name: web}",
                                                           f"metadata: {{name: web, namespace: {extra}}}"),
    }, "a new namespace holding a broken Deployment")
    result = rec.reconcile(source)
    assert result.result == FAILED, result.message
    cm = c.get("v1", "ConfigMap", "settings")
    assert cm is not None and cm["data"]["mode"] == "prod"
    assert secret_password(c) == "one"
    assert c.client.get("apps/v1", "Deployment", "web", extra) is None
    status = c.status()
    assert status["lastAppliedRevision"] == good.applied_revision and status["lastAttemptedRevision"] == bad
    fixed = c.repo.commit({"app/web.yaml": deployment("web", "web").replace(
        "metadata: {name: web}", f"metadata: {{name: web, namespace: {extra}}}")}, "fixed")
    again = rec.reconcile(source)
    assert again.result == SUCCEEDED, again.message
    assert c.status()["lastAppliedRevision"] == fixed and secret_password(c) == "two"


CRD = """apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {{name: gadgets.{group}}}
spec:
  group: {group}
  scope: Namespaced
  names: {{plural: gadgets, singular: gadget, kind: Gadget}}
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec: {{type: object, properties: {{size: {{type: integer}}}}}}
"""


def test_a_rejected_revision_leaves_no_namespace_or_crd_it_would_have_created(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    """A new Namespace is dry-run, never created for the preflight; a new CRD the preflight had to create
    so its custom resource could be dry-run is deleted (by uid) when a later object is rejected."""
    c = new_cluster(apiserver, git_server, tmp_path, {"app/config.yaml": config("prod", "one")})
    extra, group = f"{c.target_ns}-new", f"{c.target_ns}.example.com"
    grant = Authority(namespaces=(c.target_ns, extra), cluster_kinds=("Namespace", "CustomResourceDefinition"))
    rec = c.reconciler(renderer="plain", authority=grant)
    source = rec.settings.sources[0]
    assert rec.reconcile(source).ok
    in_extra = f"metadata: {{name: web, namespace: {extra}}}"
    files = {
        "app/ns.yaml": f"apiVersion: v1\nkind: Namespace\nmetadata: {{name: {extra}}}\n",
        "app/crd.yaml": CRD.format(group=group),
        "app/gadget.yaml": f"apiVersion: {group}/v1\nkind: Gadget\nmetadata: {{name: g, namespace: {extra}}}\n"
                           "spec: {size: 3}\n",
        "app/web.yaml": deployment("web", "other").replace("metadata: {name: web}", in_extra),
    }
    c.repo.commit(files, "a new namespace, CRD and custom resource, and a broken Deployment")
    result = rec.reconcile(source)
    assert result.result == FAILED and "Deployment" in result.message, result.message
    assert c.client.get("v1", "Namespace", extra) is None  # never created, so never left Terminating
    crd = c.client.get("apiextensions.k8s.io/v1", "CustomResourceDefinition", f"gadgets.{group}")
    assert crd is None or crd["metadata"].get("deletionTimestamp"), crd  # deleted (the finalizer may still run)
    c.repo.commit({"app/web.yaml": deployment("web", "web").replace("metadata: {name: web}", in_extra)}, "fixed")
    fixed = rec.reconcile(source)
    assert fixed.result == SUCCEEDED, fixed.message
    gadget = c.client.get(f"{group}/v1", "Gadget", "g", extra)
    assert gadget is not None and gadget["spec"]["size"] == 3
