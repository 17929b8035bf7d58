"""atk14j: mutating admission that rewrites Roles after the guard judged them.

Since atk14i, ``why_granting_secrets`` judges a binding by its role's rules (the revision's, else the
live ones): a Role's ``rules`` now decide whether the revision may be applied, exactly as a RoleBinding's
``roleRef`` or a Secret's type do. But ``_IDENTITY_BEARING`` (what no mutating admission object of the repo may
pick, whatever the grant: ``why_mutating_identity``) lists rolebindings, clusterrolebindings, secrets,
serviceaccounts and namespaces — not ``roles`` or ``clusterroles``. A source granted
``MutatingWebhookConfiguration`` (or a ``MutatingAdmissionPolicyBinding`` of a cluster policy) applies a
webhook confined to its own namespace (excludes the reconciler's, ``scope: Namespaced``: ``why_intercepting``
passes) that picks ``rbac.authorization.k8s.io/roles``; the guard then judges the Role as written (``get
configmaps``) and the binding of it, the webhook rewrites the Role on its way in (``get secrets``,
resourceNames [git-creds]), and the repo's ``default`` ServiceAccount reads the Source's git credentials. No
``allowMutatingPods`` needed (roles carry no pod spec).

Observed: ``borrowing_identity`` returns nothing for either object (units: the harness API server runs no
webhook backend of the repo's). Responsible: ``handoff/reconciler/guard.py`` (``_IDENTITY_BEARING``,
``_picks_identity``, ``why_mutating_identity``). Should hold: what the identity guard judges by content —
now roles and clusterroles too — may not be rewritten by the repo's mutating admission after it judged it."""

from __future__ import annotations

from typing import Any

import pytest

from handoff.reconciler.authority import grant_of, namespace_covered
from handoff.reconciler.config import Authority, Settings, Source
from handoff.reconciler.guard import borrowing_identity, configuration_secrets

NS = "handoff-system"
KINDS = ("MutatingWebhookConfiguration", "MutatingAdmissionPolicyBinding")
TENANT = Source(name="a", url="https://git.example/x.git", namespace="team-a", secrets=("team-a/git-creds",),
                authority=Authority(namespaces=("team-a",), cluster_kinds=KINDS))
SETTINGS = Settings(sources=(TENANT,), namespace=NS)
CONFINED = {"matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "In", "values": ["team-a"]}]}
RULE = {"apiGroups": ["rbac.authorization.k8s.io"], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"],
        "resources": ["roles"], "scope": "Namespaced"}


def _webhook() -> dict[str, Any]:
    return {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfiguration",
            "metadata": {"name": "role-rewriter"},
            "webhooks": [{"name": "roles.team-a.example.com", "admissionReviewVersions": ["v1"],
                          "sideEffects": "None", "namespaceSelector": CONFINED, "rules": [RULE],
                          "clientConfig": {"service": {"namespace": "team-a", "name": "hook", "path": "/m"}}}]}


def _binding() -> dict[str, Any]:
    return {"apiVersion": "admissionregistration.k8s.io/v1beta1", "kind": "MutatingAdmissionPolicyBinding",
            "metadata": {"name": "role-rewriter"},
            "spec": {"policyName": "operators-role-patcher",
                     "matchResources": {"namespaceSelector": CONFINED, "resourceRules": [RULE]}}}


ROLE_AND_BINDING = [
    {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "r", "namespace": "team-a"},
     "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}]},
    {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
     "metadata": {"name": "r", "namespace": "team-a"},
     "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "r"},
     "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": "team-a"}]},
]


@pytest.mark.parametrize("mutator", [_webhook, _binding], ids=["webhook", "policy-binding"])
def test_a_mutating_object_rewriting_roles_is_refused_whatever_the_grant(mutator: Any) -> None:
    objects = [mutator(), *ROLE_AND_BINDING]
    refused = borrowing_identity(objects, SETTINGS, configuration_secrets(SETTINGS.sources), KINDS,
                                 namespace_covered(grant_of(TENANT, NS), NS), mutating_pods=True)
    assert refused, (
        f"a {objects[0]['kind']} picking rbac.authorization.k8s.io/roles in the source's namespace was admitted "
        "(with allowMutatingPods, which roles do not even need): it rewrites a Role's rules after "
        "why_granting_secrets judged them, so a RoleBinding of a Role the guard saw reading configmaps "
        "hands the Source's git-creds to the repo's pods")
