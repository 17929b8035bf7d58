"""No source obtains or uses the reconciler's identity, whatever its grant: a token for its ServiceAccount
(a ``service-account-token`` Secret, a TokenRequest), a binding of one of its install's Roles or
ClusterRoles, a binding that gives the reconciler's ServiceAccount new rights, a Pod reading its Secrets
(units, then a real kube-apiserver + etcd and git server)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from handoff.reconciler.config import Authority, Settings, Source
from handoff.reconciler.guard import borrowing_identity, own_object, why_borrowing
from handoff.reconciler.manifests import APP, GIT_CREDENTIALS_SECRET, manifests
from handoff.reconciler.status import REFUSED, SUCCEEDED
from handoff.report.model import ObjectRef

from .cluster import new_cluster

NS = "handoff-system"
SETTINGS = Settings(sources=(Source(name="a", url="https://git.example/x.git"),), namespace=NS)
RBAC = "rbac.authorization.k8s.io/v1"
CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\ndata: {rev: \"1\"}\n"


def token_secret(namespace: str, service_account: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/service-account-token",
            "metadata": {"name": "innocent", "namespace": namespace,
                         "annotations": {"kubernetes.io/service-account.name": service_account}}}


def binding(kind: str, role_kind: str, role: str, subjects: list[dict[str, Any]],
            namespace: str = "team-a") -> dict[str, Any]:
    meta = {"name": "innocent", **({"namespace": namespace} if kind == "RoleBinding" else {})}
    return {"apiVersion": RBAC, "kind": kind, "metadata": meta,
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role},
            "subjects": subjects}


OTHER = [{"kind": "ServiceAccount", "name": "attacker", "namespace": "team-a"}]


def test_a_token_for_the_reconcilers_service_account_is_borrowing_it() -> None:
    assert "mint a token" in why_borrowing(token_secret(NS, APP), SETTINGS)
    request = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
               "metadata": {"name": APP, "namespace": NS}, "spec": {"audiences": ["x"]}}
    assert "mint a token" in why_borrowing(request, SETTINGS)
    # another ServiceAccount's token, or the same name in another namespace, is the grant's question
    assert why_borrowing(token_secret(NS, "other"), SETTINGS) == ""
    assert why_borrowing(token_secret("team-a", APP), SETTINGS) == ""
    plain = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x", "namespace": NS,
             "annotations": {"kubernetes.io/service-account.name": APP}}}
    assert why_borrowing(plain, SETTINGS) == ""  # not a token Secret: the controller ignores it


@pytest.mark.parametrize("role_kind,role", sorted(
    {(str(o["kind"]), str(o["metadata"]["name"]))
     for o in (*manifests(cluster_wide=True, impersonate=("team-a/deployer",)), *manifests(cluster_wide=False))
     if o["kind"] in ("Role", "ClusterRole")}))
def test_a_binding_of_any_role_the_install_creates_is_refused(role_kind: str, role: str) -> None:
    for kind in ("RoleBinding", "ClusterRoleBinding") if role_kind == "ClusterRole" else ("RoleBinding",):
        for namespace in (NS, "team-a"):
            why = why_borrowing(binding(kind, role_kind, role, OTHER, namespace), SETTINGS)
            assert f"binds the reconciler's own {role_kind} {role}" == why


@pytest.mark.parametrize("subject", [
    {"kind": "ServiceAccount", "name": APP, "namespace": NS},
    {"kind": "User", "name": f"system:serviceaccount:{NS}:{APP}"},
    {"kind": "Group", "name": f"system:serviceaccounts:{NS}"},
    {"kind": "Group", "name": "system:serviceaccounts"},
    {"kind": "Group", "name": "system:authenticated"},
])
def test_a_binding_that_gives_the_reconciler_new_rights_is_refused(subject: dict[str, Any]) -> None:
    for kind in ("RoleBinding", "ClusterRoleBinding"):
        assert "to the reconciler's own ServiceAccount" in why_borrowing(
            binding(kind, "ClusterRole", "cluster-admin", [subject]), SETTINGS)


def test_an_ordinary_binding_is_not_borrowing() -> None:
    for subject in (OTHER[0], {"kind": "Group", "name": "system:serviceaccounts:team-a"},
                    {"kind": "ServiceAccount", "name": APP, "namespace": "team-a"}):
        assert why_borrowing(binding("RoleBinding", "ClusterRole", "view", [subject]), SETTINGS) == ""


def test_a_pod_in_the_reconcilers_namespace_reading_its_secrets_is_refused() -> None:
    def pod(spec: dict[str, Any], namespace: str = NS) -> dict[str, Any]:
        return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": namespace},
                "spec": {"containers": [{"name": "c", "image": "x", **spec.pop("container", {})}], **spec}}

    volume = {"volumes": [{"name": "v", "secret": {"secretName": GIT_CREDENTIALS_SECRET}}]}
    projected = {"volumes": [{"name": "v", "projected": {"sources": [{"secret": {"name": f"{APP}-token"}}]}}]}
    env = {"container": {"env": [{"name": "T", "valueFrom": {"secretKeyRef": {"name": GIT_CREDENTIALS_SECRET,
                                                                               "key": "token"}}}]}}
    env_from = {"container": {"envFrom": [{"secretRef": {"name": GIT_CREDENTIALS_SECRET}}]}}
    for spec in (volume, projected, env, env_from):
        assert "read the reconciler's own Secret" in why_borrowing(pod(dict(spec)), SETTINGS), spec
    assert why_borrowing(pod(dict(volume), "team-a"), SETTINGS) == ""  # another namespace's namesake
    assert why_borrowing(pod({"volumes": [{"name": "v", "secret": {"secretName": "app"}}]}), SETTINGS) == ""


def test_a_pod_template_running_as_the_reconciler_is_refused() -> None:
    template = {"apiVersion": "v1", "kind": "PodTemplate", "metadata": {"name": "t", "namespace": NS},
                "template": {"spec": {"serviceAccountName": APP, "containers": []}}}
    assert borrowing_identity([template], SETTINGS)[0][1] == "would run as the reconciler's own ServiceAccount"


def test_the_reconcilers_service_account_and_install_rbac_elsewhere_are_its_own() -> None:
    assert own_object(ObjectRef("v1", "ServiceAccount", APP, NS), SETTINGS)
    assert not own_object(ObjectRef("v1", "ServiceAccount", APP, "team-a"), SETTINGS)
    # the impersonation Role and RoleBinding the install puts in each impersonated namespace
    for kind in ("Role", "RoleBinding"):
        assert own_object(ObjectRef(RBAC, kind, f"{APP}-impersonate", "team-a"), SETTINGS)
    assert not own_object(ObjectRef(RBAC, "Role", "app-reader", "team-a"), SETTINGS)


@pytest.mark.tools
@pytest.mark.slow
def test_binding_the_reconcilers_cluster_role_in_a_granted_namespace_is_refused(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    """A RoleBinding in the source's own namespace to ClusterRole ``handoff-reconciler`` would give its
    subject the reconciler's rights there; and a binding giving the reconciler's ServiceAccount more."""
    c = new_cluster(apiserver, git_server, tmp_path, {"app/cm.yaml": CM})
    rec = c.reconciler(renderer="plain", authority=Authority(namespaces=("*",)))
    source = rec.settings.sources[0]
    assert rec.reconcile(source).ok
    c.repo.commit({"app/rb.yaml": f"""apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {{name: innocent}}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: {APP}}}
subjects: [{{kind: ServiceAccount, name: default, namespace: {c.target_ns}}}]
"""}, "borrow the reconciler's ClusterRole in my namespace")
    result = rec.reconcile(source)
    assert result.result == REFUSED and f"binds the reconciler's own ClusterRole {APP}" in result.message
    assert c.get(RBAC, "RoleBinding", "innocent") is None
    c.repo.commit({"app/rb.yaml": f"""apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {{name: innocent}}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: admin}}
subjects: [{{kind: ServiceAccount, name: {APP}, namespace: {c.control_ns}}}]
"""}, "give the reconciler admin in my namespace")
    result = rec.reconcile(source)
    assert result.result == REFUSED and "to the reconciler's own ServiceAccount" in result.message
    assert c.get(RBAC, "RoleBinding", "innocent") is None


@pytest.mark.tools
@pytest.mark.slow
def test_a_token_only_for_a_service_account_the_grant_could_run_pods_as(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    """A grant of Secrets but not Pods cannot mint a ServiceAccount's token; under the default grant a
    token for the source's own ServiceAccount (Kubernetes' documented long-lived token) is applied."""
    sa = "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: ci-bot}\n"
    token = ("apiVersion: v1\nkind: Secret\ntype: kubernetes.io/service-account-token\nmetadata:\n"
             "  name: ci-bot-token\n  annotations: {kubernetes.io/service-account.name: ci-bot}\n")
    c = new_cluster(apiserver, git_server, tmp_path, {"app/cm.yaml": CM, "app/sa.yaml": sa})
    narrow = c.reconciler(renderer="plain", authority=Authority(
        namespaces=(c.target_ns,), kinds=("ConfigMap", "Secret", "ServiceAccount")))
    source = narrow.settings.sources[0]
    assert narrow.reconcile(source).ok
    c.repo.commit({"app/token.yaml": token}, "a long-lived token for ci-bot")
    refused = narrow.reconcile(source)
    assert refused.result == REFUSED, refused.message
    assert f"a token for ServiceAccount {c.target_ns}/ci-bot, which it may not run Pods as" in refused.message
    assert c.get("v1", "Secret", "ci-bot-token") is None
    default = c.reconciler(renderer="plain")
    applied = default.reconcile(default.settings.sources[0])
    assert applied.result == SUCCEEDED, applied.message
    assert c.get("v1", "Secret", "ci-bot-token") is not None
