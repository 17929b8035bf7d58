"""atk14h: a mutating admission object picking bindings, Secrets, ServiceAccounts or Namespaces through a
wildcard group or resource rewrites what the identity guard judged, and no grant may waive that (guard.py's
docstring: "whatever the grant"). Today only the exact (group, plural) pairs are caught by
why_mutating_identity; a wildcard is left to why_mutating_pods, which allowMutatingPods waives."""
from __future__ import annotations

from typing import Any

import pytest

from handoff.reconciler.config import Settings, Source
from handoff.reconciler.guard import borrowing_identity, why_mutating_identity

NS = "handoff-system"
CLUSTER_KINDS = ("MutatingWebhookConfiguration", "MutatingAdmissionPolicy")


def _webhook(groups: list[str], resources: list[str]) -> dict[str, Any]:
    return {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfiguration",
            "metadata": {"name": "rewrite"},
            "webhooks": [{"name": "rewrite.example.com", "admissionReviewVersions": ["v1"],
                          "sideEffects": "None",
                          "clientConfig": {"url": "https://hook.example.com/mutate"},
                          "rules": [{"apiGroups": groups, "apiVersions": ["v1"], "operations": ["CREATE"],
                                     "resources": resources}]}]}


def _policy(groups: list[str], resources: list[str]) -> dict[str, Any]:
    return {"apiVersion": "admissionregistration.k8s.io/v1beta1", "kind": "MutatingAdmissionPolicy",
            "metadata": {"name": "rewrite"},
            "spec": {"matchConstraints": {"resourceRules": [
                {"apiGroups": groups, "apiVersions": ["*"], "operations": ["CREATE"],
                 "resources": resources}]}}}


@pytest.mark.parametrize("make", [_webhook, _policy], ids=["webhook", "policy"])
@pytest.mark.parametrize(("groups", "resources"), [
    (["*"], ["rolebindings"]),                     # wildcard group, exact plural
    (["rbac.authorization.k8s.io"], ["*"]),        # exact group, wildcard resource
    ([""], ["*"]),                                 # core group: Secrets, ServiceAccounts, Namespaces
    (["*"], ["*"]),
    (["*"], ["secrets"]),
    (["*"], ["*/*"]),
])
def test_a_wildcard_picking_identity_resources_is_refused_whatever_the_grant(
        make: Any, groups: list[str], resources: list[str]) -> None:
    why = why_mutating_identity(make(groups, resources), CLUSTER_KINDS)
    assert why, (f"a mutating object with apiGroups {groups} resources {resources} can rewrite RoleBindings/"
                 "Secrets/ServiceAccounts/Namespaces after the identity guard judged them; "
                 "why_mutating_identity must refuse it (allowMutatingPods waives only why_mutating_pods, "
                 "so today a grant with allowMutatingPods admits it)")


def test_allow_mutating_pods_does_not_admit_a_wildcard_webhook_rewriting_bindings() -> None:
    settings = Settings(sources=(Source(name="a", url="https://git.example/x.git"),), namespace=NS)
    hook = _webhook(["*"], ["rolebindings"])
    hook["webhooks"][0]["namespaceSelector"] = {"matchExpressions": [
        {"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": [NS]}]}
    refused = borrowing_identity([hook], settings, cluster_kinds=CLUSTER_KINDS, mutating_pods=True)
    assert refused, ("a cluster-wide grant with allowMutatingPods admitted a MutatingWebhookConfiguration "
                     "picking apiGroups ['*'] resources ['rolebindings']: it can rewrite a RoleBinding's "
                     "roleRef after the identity guard judged it, which no grant may waive")
