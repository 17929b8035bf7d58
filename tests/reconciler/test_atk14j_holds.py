"""atk14j: what held (passing checks, kept so a regression shows): the atk14i fixes against the variants
tried. ``why_granting_secrets`` refuses a binding of a role reading the Source's Secret whatever the subject
(a Group ``system:serviceaccounts:<ns>``), with ``*`` groups/resources/verbs, list or watch alone, a Role,
a ClusterRoleBinding; RBAC's own case-sensitivity makes ``Secrets``/``GET`` grant nothing, so passing them
is right. An operator's ValidatingWebhookConfiguration named by the repo is refused live
(``_refuse_admission_takeover``), nothing applied."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest

from handoff.reconciler.config import Authority
from handoff.reconciler.guard import why_granting_secrets
from handoff.reconciler.loop import Reconciler
from handoff.reconciler.status import SUCCEEDED

from .cluster import new_cluster

SECRETS = {("team-a", "git-creds")}
ROLES = {("ClusterRole", "star", ""): [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}],
         ("ClusterRole", "list", ""): [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["list"]}],
         ("Role", "watch", "team-a"): [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["watch"]}],
         ("ClusterRole", "other", ""): [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"],
                                         "resourceNames": ["other"]}],
         ("ClusterRole", "upper", ""): [{"apiGroups": [""], "resources": ["Secrets"], "verbs": ["GET"]}]}


def _binding(kind: str, ns: str, role_kind: str, role: str) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind, "metadata": {"name": "x"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role},
        "subjects": [{"kind": "Group", "name": "system:serviceaccounts:team-a",
                      "apiGroup": "rbac.authorization.k8s.io"}]}
    if ns:
        obj["metadata"]["namespace"] = ns
    return obj


@pytest.mark.parametrize(("kind", "ns", "role_kind", "role", "refused"), [
    ("RoleBinding", "team-a", "ClusterRole", "star", True),
    ("ClusterRoleBinding", "", "ClusterRole", "star", True),
    ("RoleBinding", "team-a", "ClusterRole", "list", True),
    ("RoleBinding", "team-a", "Role", "watch", True),
    ("RoleBinding", "team-b", "ClusterRole", "star", False),   # another namespace: no guarded Secret there
    ("RoleBinding", "team-a", "ClusterRole", "other", False),  # another Secret by name
    ("RoleBinding", "team-a", "ClusterRole", "upper", False),  # RBAC matches case-sensitively: grants nothing
])
def test_read_verbs_are_judged_whatever_the_subject(kind: str, ns: str, role_kind: str, role: str,
                                                    refused: bool) -> None:
    why = why_granting_secrets(_binding(kind, ns, role_kind, role), SECRETS, lambda k, n, s: ROLES.get((k, n, s)))
    assert bool(why) == refused, why


@pytest.mark.tools
@pytest.mark.slow
def test_an_operators_validating_webhook_configuration_is_not_taken_over(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    c = new_cluster(apiserver, git_server, tmp_path, {"app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\n"
                                                                     "metadata: {name: app}\n"})
    name = f"op-{c.target_ns}"
    adm = "admissionregistration.k8s.io/v1"
    c.client.apply({"apiVersion": adm, "kind": "ValidatingWebhookConfiguration", "metadata": {"name": name},
                    "webhooks": []}, manager="operator")
    grant = Authority(namespaces=(c.target_ns,), cluster_kinds=("ValidatingWebhookConfiguration",))
    rec = Reconciler(c.settings(renderer="plain", authority=grant), c.client, c.workdir)
    c.repo.commit({"app/vwc.yaml": f"apiVersion: {adm}\nkind: ValidatingWebhookConfiguration\n"
                                   f"metadata: {{name: {name}}}\nwebhooks: []\n"}, "named as the operator's")
    try:
        result = rec.reconcile(rec.settings.sources[0])
        assert result.result != SUCCEEDED and "never taken over" in result.message, result.message
    finally:
        with contextlib.suppress(Exception):
            c.client.delete(adm, "ValidatingWebhookConfiguration", name)
