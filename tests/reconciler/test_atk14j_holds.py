"""atk14j: what held (passing checks, kept so a regression shows): the atk14i fixes against the variants
tried. ``rbacreach.why_rules_reach`` refuses a role reading the Source's Secret with ``*``
groups/resources/verbs, list or watch alone, bound in its namespace or cluster-wide; RBAC's own
case-sensitivity makes ``Secrets``/``GET`` grant nothing, so passing them is right. An operator's
ValidatingWebhookConfiguration named by the repo is refused live (``_refuse_takeover``), nothing applied."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest

from handoff.reconciler.config import Authority
from handoff.reconciler.loop import Reconciler
from handoff.reconciler.rbacreach import Guarded, why_rules_reach
from handoff.reconciler.status import SUCCEEDED

from .cluster import new_cluster

GUARDED = Guarded.of({("team-a", "git-creds")}, "handoff-system")
ROLES = {("ClusterRole", "star", ""): [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}],
         ("ClusterRole", "list", ""): [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["list"]}],
         ("Role", "watch", "team-a"): [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["watch"]}],
         ("ClusterRole", "other", ""): [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"],
                                         "resourceNames": ["other"]}],
         ("ClusterRole", "upper", ""): [{"apiGroups": [""], "resources": ["Secrets"], "verbs": ["GET"]}]}


@pytest.mark.parametrize(("ns", "role_kind", "role", "refused"), [
    ("team-a", "ClusterRole", "star", True),
    ("", "ClusterRole", "star", True),          # a ClusterRoleBinding
    ("team-a", "ClusterRole", "list", True),
    ("team-a", "Role", "watch", True),
    ("team-b", "ClusterRole", "star", False),   # another namespace: no guarded Secret there
    ("team-a", "ClusterRole", "other", False),  # another Secret by name
    ("team-a", "ClusterRole", "upper", False),  # RBAC matches case-sensitively: grants nothing
])
def test_read_verbs_are_judged_where_bound(ns: str, role_kind: str, role: str, refused: bool) -> None:
    why = why_rules_reach(ROLES[(role_kind, role, "team-a" if role_kind == "Role" else "")], GUARDED, ns)
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
