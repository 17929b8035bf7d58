"""``guard.why_granting_secrets``: a (Cluster)RoleBinding that would let its subjects read a Source's
git-credentials Secret through the API (atk14i F3), judged by what the bound role's rules can read."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from handoff.reconciler.guard import why_granting_secrets

SECRETS = {("team-a", "git-creds")}
ROLES: dict[tuple[str, str, str], list[dict[str, Any]]] = {
    ("ClusterRole", "cluster-admin", ""): [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}],
    ("ClusterRole", "view", ""): [{"apiGroups": [""], "resources": ["configmaps", "pods"], "verbs": ["get", "list"]}],
    ("Role", "other-secret", "team-a"): [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"],
                                          "resourceNames": ["tls"]}],
    ("Role", "lister", "team-a"): [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["list"]}],
}


def rules_of(kind: str, name: str, namespace: str) -> Sequence[Any] | None:
    return ROLES.get((kind, name, namespace))


def binding(kind: str, namespace: str, role_kind: str, role: str) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": "b", **({"namespace": namespace} if namespace else {})}
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind, "metadata": meta,
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role},
            "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": "team-a"}]}


@pytest.mark.parametrize(("kind", "namespace", "role_kind", "role"), [
    ("RoleBinding", "team-a", "ClusterRole", "cluster-admin"),
    ("RoleBinding", "team-a", "Role", "lister"),
    ("ClusterRoleBinding", "", "ClusterRole", "cluster-admin"),
])
def test_a_binding_of_a_role_that_reads_the_credentials_is_refused(kind: str, namespace: str, role_kind: str,
                                                                     role: str) -> None:
    why = why_granting_secrets(binding(kind, namespace, role_kind, role), SECRETS, rules_of)
    assert "can read Secret team-a/git-creds" in why


@pytest.mark.parametrize(("kind", "namespace", "role_kind", "role"), [
    ("RoleBinding", "team-a", "ClusterRole", "view"),            # reads no Secrets
    ("RoleBinding", "team-a", "Role", "other-secret"),           # another Secret by name
    ("RoleBinding", "team-b", "ClusterRole", "cluster-admin"),   # a namespace holding no credentials
    ("RoleBinding", "team-a", "ClusterRole", "unknown"),         # rules not known: left to RBAC
])
def test_other_bindings_are_left_alone(kind: str, namespace: str, role_kind: str, role: str) -> None:
    assert why_granting_secrets(binding(kind, namespace, role_kind, role), SECRETS, rules_of) == ""
