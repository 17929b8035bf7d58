"""atk14f: a source's own mutating admission object, confined to its own granted namespace (so
``why_intercepting`` admits it), rewrites the pods of that namespace after every check of the revision ran:
it can add a volume reading the Source's git-credentials Secret (the reconciler's own, which no pod of the
repo may read: ``why_borrowing``) or make a container privileged (the floor's baseline). Either gives the
source more than the operator granted ("never more authority than the operator grants", issue 14). Units on
``borrowing_identity`` with the real grant, as tests/reconciler/test_guard_admission_reach.py; the API
server of the harness (1.35) does not serve MutatingAdmissionPolicy (beta, off by default), so this is not
run live."""

from __future__ import annotations

from typing import Any

import pytest

from handoff.reconciler.authority import grant_of, namespace_covered
from handoff.reconciler.config import Authority, Settings, Source
from handoff.reconciler.guard import borrowing_identity, configuration_secrets

NS = "handoff-system"
ADMISSION = "admissionregistration.k8s.io/v1beta1"
KINDS = ("MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding", "MutatingWebhookConfiguration")
# a tenant source: its Source object lives in team-a, with its git credentials there too
TENANT = Source(name="a", url="https://git.example/x.git", namespace="team-a", secrets=("team-a/git-creds",),
                authority=Authority(namespaces=("team-a",), cluster_kinds=KINDS))
SETTINGS = Settings(sources=(TENANT,), namespace=NS)
CONFINED = {"matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "In", "values": ["team-a"]},
                                 {"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": [NS]}]}
PODS = [{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE"], "resources": ["pods"]}]

READ_CREDENTIALS = """Object{spec: Object.spec{volumes: [Object.spec.volumes{name: "c",
  secret: Object.spec.volumes.secret{secretName: "git-creds"}}]}}"""
PRIVILEGED = """Object{spec: Object.spec{containers: [Object.spec.containers{name: "main",
  securityContext: Object.spec.containers.securityContext{privileged: true}}]}}"""


def _policy(expression: str) -> list[dict[str, Any]]:
    match = {"namespaceSelector": CONFINED, "resourceRules": PODS}
    return [{"apiVersion": ADMISSION, "kind": "MutatingAdmissionPolicy", "metadata": {"name": "inject"},
             "spec": {"failurePolicy": "Ignore", "reinvocationPolicy": "Never", "matchConstraints": match,
                      "mutations": [{"patchType": "ApplyConfiguration",
                                     "applyConfiguration": {"expression": expression}}]}},
            {"apiVersion": ADMISSION, "kind": "MutatingAdmissionPolicyBinding", "metadata": {"name": "inject"},
             "spec": {"policyName": "inject", "matchResources": match}}]


def _webhook() -> dict[str, Any]:  # its server (the repo's own Deployment) answers with any JSON patch
    return {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfiguration",
            "metadata": {"name": "inject"},
            "webhooks": [{"name": "inject.team-a.example.com", "namespaceSelector": CONFINED, "rules": PODS,
                          "admissionReviewVersions": ["v1"], "sideEffects": "None", "failurePolicy": "Ignore",
                          "clientConfig": {"service": {"namespace": "team-a", "name": "injector"}}}]}


def _refused(objects: list[dict[str, Any]]) -> list[Any]:
    return borrowing_identity(objects, SETTINGS, configuration_secrets(SETTINGS.sources), KINDS,
                              namespace_covered(grant_of(TENANT, NS), NS))


@pytest.mark.parametrize(("what", "expression"), [("reads the Source's git credentials", READ_CREDENTIALS),
                                                  ("makes a container privileged", PRIVILEGED)])
@pytest.mark.xfail(strict=True, reason="open (issue 14, atk14f F4): a granted MutatingAdmissionPolicy may rewrite the source's pods after the guard and the floor")
def test_a_mutating_policy_rewriting_the_sources_own_pods_is_refused(what: str, expression: str) -> None:
    assert _refused(_policy(expression)), (
        f"a MutatingAdmissionPolicy confined to the source's namespace whose mutation {what} was admitted: it "
        "rewrites pods after the identity guard and the floor judged them, so the source gets what neither "
        "allows (refuse Mutating* admission objects whose rules pick pods or pod-bearing workloads, or check "
        "their mutations like the objects they produce)")


@pytest.mark.xfail(strict=True, reason="open (issue 14, atk14f F4): a granted MutatingWebhookConfiguration may rewrite the source's pods after the guard and the floor")
def test_a_mutating_webhook_on_the_sources_own_pods_is_refused() -> None:
    assert _refused([_webhook()]), (
        "a MutatingWebhookConfiguration on pods, confined to the source's namespace and served by the repo's "
        "own Deployment, was admitted: its server can patch any pod (privileged, the Source's git-credentials "
        "Secret mounted) after the floor and the identity guard ran")
