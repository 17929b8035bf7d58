"""atk14j: ``why_granting_secrets`` asks one question of a binding's role — can it get/list/watch the
Secret? — while RBAC has verbs that are worth as much or more, and a role's reach is changed by labels on
another ClusterRole.

1. ``test_a_binding_of_a_role_equivalent_to_reading_the_credentials_is_refused`` (parametrized): a Role and
   RoleBinding in the Source's git-credentials namespace (the default grant, no ``authority:``), or a
   ClusterRole and ClusterRoleBinding (grant ``ClusterRole``, ``ClusterRoleBinding``), granting
   - ``create pods`` there: the repo's ServiceAccount creates, itself, the Pod mounting the credentials
     that ``why_borrowing`` refuses when the repo declares it (observed: a server-side dry-run create of
     such a Pod as ``<ns>:default`` is admitted);
   - ``escalate``/``bind``/``create`` on roles and rolebindings there: it writes itself a Role that reads
     the Secret (observed: dry-run create as ``<ns>:default`` admitted);
   - ``create serviceaccounts/token`` cluster-wide: a token of the reconciler's own ServiceAccount
     (``handoff-reconciler`` in its namespace) — the reconciler's whole authority;
   - ``create pods/exec`` cluster-wide: a shell in the reconciler's Pod, its mounted git credentials and
     token;
   - ``impersonate groups`` cluster-wide: ``system:masters``.
   Each revision SUCCEEDED. Responsible: ``handoff/reconciler/guard.py`` (``why_granting_secrets``,
   ``_reads_secret``, ``_binding_why``: the reconciler's own ServiceAccount is protected as a *subject* of a
   binding, not as the *object* of a token request or exec). Should hold: a binding the revision adds is
   refused when its role grants any of Kubernetes' privilege-escalation verbs over the guarded namespaces
   (the Secret's, the reconciler's): ``create`` on pods/workloads, ``escalate``, ``bind``, ``impersonate``,
   ``create`` on ``serviceaccounts/token``, ``pods/exec``/``attach``/``portforward``, as the Kubernetes RBAC
   good-practices page lists them.

2. ``test_a_clusterrole_aggregated_into_view_cannot_widen_the_operators_view_binding``: no binding in the
   revision at all. The operator bound the built-in ``view`` ClusterRole to the team in its namespace (where
   the Source's git credentials are). The repo, granted ``ClusterRole``, adds a ClusterRole labelled
   ``rbac.authorization.k8s.io/aggregate-to-view: "true"`` that reads Secrets; the aggregation controller
   folds it into ``view`` — cluster-wide, for every holder of ``view`` in every namespace (the harness runs
   no controller-manager: the test performs that one copy). Observed: SUCCEEDED, then the team's
   ServiceAccount may GET the Source's credentials. Responsible: ``guard.py`` (ClusterRoles are never
   judged, only bindings). Should hold: a ClusterRole whose labels an existing ``aggregationRule`` selects
   is judged as part of that aggregated role (refused when it reads a guarded Secret or escalates)."""

from __future__ import annotations

import contextlib
import uuid
from pathlib import Path
from typing import Any

import pytest

from handoff.kube.client import KubeError
from handoff.reconciler.config import Authority
from handoff.reconciler.loop import Reconciler
from handoff.reconciler.manifests import APP
from handoff.reconciler.status import SUCCEEDED

from .cluster import new_cluster

RBAC = "rbac.authorization.k8s.io/v1"
CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: app}}\ndata: {{rev: \"{rev}\"}}\n"


def _allowed(c: Any, user: str, groups: list[str], attrs: dict[str, str]) -> bool:
    review = c.client.request("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", body={
        "apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
        "spec": {"user": user, "groups": groups, "resourceAttributes": attrs}})
    return bool((review.get("status") or {}).get("allowed"))


def _sa(ns: str, name: str = "default") -> tuple[str, list[str]]:
    return (f"system:serviceaccount:{ns}:{name}",
            ["system:serviceaccounts", f"system:serviceaccounts:{ns}", "system:authenticated"])


def _dry_run_as(c: Any, ns: str, obj: dict[str, Any], path: str) -> str:
    """'' when ``<ns>:default`` may create ``obj`` (a server-side dry-run POST), else the API server's refusal."""
    user, groups = _sa(ns)
    try:
        c.client.impersonating(user, tuple(groups)).request("POST", path, params={"dryRun": "All"}, body=obj)
    except KubeError as e:
        return str(e)
    return ""


def _capability(case: str, c: Any, ns: str) -> bool:
    user, groups = _sa(ns)
    if case == "create-pods":
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "thief", "namespace": ns},
               "spec": {"automountServiceAccountToken": False,
                        "containers": [{"name": "c", "image": "registry.example/x:1",
                                        "volumeMounts": [{"name": "s", "mountPath": "/s"}]}],
                        "volumes": [{"name": "s", "secret": {"secretName": "git-creds"}}]}}
        return _dry_run_as(c, ns, pod, f"/api/v1/namespaces/{ns}/pods") == ""
    if case == "escalate-bind":
        role = {"apiVersion": RBAC, "kind": "Role", "metadata": {"name": "thief", "namespace": ns},
                "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}]}
        return _dry_run_as(c, ns, role, f"/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/roles") == ""
    if case == "serviceaccount-token":
        return _allowed(c, user, groups, {"namespace": c.control_ns, "verb": "create", "resource": "serviceaccounts",
                                          "subresource": "token", "name": APP})
    if case == "pods-exec":
        return _allowed(c, user, groups, {"namespace": c.control_ns, "verb": "create", "resource": "pods",
                                          "subresource": "exec"})
    if case == "impersonate":
        return _allowed(c, user, groups, {"verb": "impersonate", "resource": "groups", "name": "system:masters"})
    raise AssertionError(case)


RULES = {
    "create-pods": '[{apiGroups: [""], resources: [pods], verbs: [create]}]',
    "escalate-bind": '[{apiGroups: [rbac.authorization.k8s.io], resources: [roles, rolebindings], '
                     'verbs: [create, escalate, bind]}]',
    "serviceaccount-token": '[{apiGroups: [""], resources: [serviceaccounts/token], verbs: [create]}]',
    "pods-exec": '[{apiGroups: [""], resources: [pods/exec], verbs: [create]}]',
    "impersonate": '[{apiGroups: [""], resources: [groups, users, serviceaccounts], verbs: [impersonate]}]',
}
CLUSTER_WIDE = {"serviceaccount-token", "pods-exec", "impersonate"}


@pytest.mark.tools
@pytest.mark.slow
@pytest.mark.parametrize("case", list(RULES))
def test_a_binding_of_a_role_equivalent_to_reading_the_credentials_is_refused(
        case: str, apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    c = new_cluster(apiserver, git_server, tmp_path, {"app/cm.yaml": CM.format(rev=1)})
    ns, uid = c.target_ns, uuid.uuid4().hex[:6]
    c.client.apply({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "git-creds", "namespace": ns},
                    "stringData": {"password": "s3cret"}}, manager="operator")
    c.client.apply({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default", "namespace": ns},
                    "automountServiceAccountToken": False}, manager="operator")
    c.client.apply({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": APP,
                                                                               "namespace": c.control_ns}},
                   manager="operator")
    # in the Secret's namespace the default grant (no authority:) is enough: a Role and a RoleBinding there
    grant = Authority(namespaces=(ns,), cluster_kinds=("ClusterRole", "ClusterRoleBinding")) \
        if case in CLUSTER_WIDE else None
    rec = Reconciler(c.settings(renderer="plain", secrets=(f"{ns}/git-creds",), authority=grant),
                     c.client, c.workdir)
    role = f"esc-{case}-{uid}"
    role_kind, binding_kind, where = ("ClusterRole", "ClusterRoleBinding", "") if case in CLUSTER_WIDE else \
        ("Role", "RoleBinding", f", namespace: {ns}")
    c.repo.commit({"app/rbac.yaml": f"""apiVersion: {RBAC}
kind: {role_kind}
metadata: {{name: {role}{where}}}
rules: {RULES[case]}
---
apiVersion: {RBAC}
kind: {binding_kind}
metadata: {{name: {role}{where}}}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: {role_kind}, name: {role}}}
subjects: [{{kind: ServiceAccount, name: default, namespace: {ns}}}]
"""}, f"bind {case}")
    try:
        result = rec.reconcile(rec.settings.sources[0])
        able = _capability(case, c, ns)
        assert not (result.result == SUCCEEDED and able), (
            f"a {binding_kind} of a {role_kind} granting {RULES[case]} to {ns}/default was applied "
            f"({result.result}: {result.message}); {ns}/default can now {case} — a way to the Source's git "
            "credentials (or the reconciler's identity) the read-verb check does not see")
    finally:
        with contextlib.suppress(Exception):
            c.client.delete(RBAC, "ClusterRoleBinding", role)
        with contextlib.suppress(Exception):
            c.client.delete(RBAC, "ClusterRole", role)


@pytest.mark.tools
@pytest.mark.slow
def test_a_clusterrole_aggregated_into_view_cannot_widen_the_operators_view_binding(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    c = new_cluster(apiserver, git_server, tmp_path, {"app/cm.yaml": CM.format(rev=1)})
    ns, uid = c.target_ns, uuid.uuid4().hex[:6]
    c.client.apply({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "git-creds", "namespace": ns},
                    "stringData": {"password": "s3cret"}}, manager="operator")
    view = c.client.get(RBAC, "ClusterRole", "view") or {}
    assert view.get("aggregationRule"), "set-up: the built-in view ClusterRole aggregates"
    # the operator lets the team view its namespace
    c.client.apply({"apiVersion": RBAC, "kind": "RoleBinding", "metadata": {"name": "team-view", "namespace": ns},
                    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
                    "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": ns}]},
                   manager="operator")
    grant = Authority(namespaces=(ns,), cluster_kinds=("ClusterRole",))
    rec = Reconciler(c.settings(renderer="plain", secrets=(f"{ns}/git-creds",), authority=grant),
                     c.client, c.workdir)
    piece = f"view-extra-{uid}"
    c.repo.commit({"app/role.yaml": f"""apiVersion: {RBAC}
kind: ClusterRole
metadata:
  name: {piece}
  labels: {{rbac.authorization.k8s.io/aggregate-to-view: "true"}}
rules: [{{apiGroups: [""], resources: [secrets], verbs: [get]}}]
"""}, "aggregate into view")
    saved_rules = view.get("rules")
    try:
        result = rec.reconcile(rec.settings.sources[0])
        allowed = False
        if result.result == SUCCEEDED:
            # the clusterrole-aggregation controller's step (kube-controller-manager is not run here)
            rules = list(saved_rules or []) + list((c.client.get(RBAC, "ClusterRole", piece) or {}).get("rules") or [])
            c.client.request("PATCH", "/apis/rbac.authorization.k8s.io/v1/clusterroles/view",
                             body={"rules": rules}, content_type="application/merge-patch+json")
            user, groups = _sa(ns)
            allowed = _allowed(c, user, groups, {"namespace": ns, "verb": "get", "resource": "secrets",
                                                 "name": "git-creds"})
        assert not (result.result == SUCCEEDED and allowed), (
            f"a ClusterRole labelled aggregate-to-view reading Secrets was applied ({result.result}: "
            f"{result.message}); aggregated into view, the operator's view binding lets {ns}/default GET the "
            "Source's git-creds (and every view holder in the cluster every Secret)")
    finally:
        with contextlib.suppress(Exception):
            c.client.delete(RBAC, "ClusterRole", piece)
        with contextlib.suppress(Exception):
            c.client.request("PATCH", "/apis/rbac.authorization.k8s.io/v1/clusterroles/view",
                             body={"rules": saved_rules}, content_type="application/merge-patch+json")
