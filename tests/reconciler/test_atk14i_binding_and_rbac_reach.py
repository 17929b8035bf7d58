"""atk14i: two ways around the identity guard that judge only the repo object's own rules.

1. A repo MutatingAdmissionPolicyBinding alone (no policy in the repo) binds a pod-rewriting
   MutatingAdmissionPolicy the CLUSTER already has (an operator's injector, typically with ``paramKind``),
   its ``matchResources`` confined to the source's namespace and picking pods, its ``paramRef`` naming a
   ConfigMap the repo controls. The binding is what puts the policy in force on the source's pods, with
   parameters the repo chooses (a Secret name to mount, a securityContext): pods rewritten after the floor
   and the identity guard judged them, without ``allowMutatingPods``. Observed: ``borrowing_identity``
   returns nothing (``_mutation_rules`` returns [] for bindings; ``why_mutating_identity`` likewise, so a
   binding picking RoleBindings/Secrets is not refused either, which no grant may waive). Responsible:
   ``handoff/reconciler/guard.py`` (``_mutation_rules``, ``why_mutating_pods``, ``why_mutating_identity``).
   Should hold: a MutatingAdmissionPolicyBinding whose matchResources pick pods / pod-bearing resources
   needs ``allowMutatingPods``, one picking identity resources is refused (the API server does not serve
   MutatingAdmissionPolicy in the 1.35 harness, so these are units).

2. The Source's git-credentials Secret (``configuration_secrets``) sits in the source's own namespace in
   tenant mode; ``why_borrowing`` refuses a Pod mounting it ("no pod of the repo may read" it). But the
   repo may apply a RoleBinding there to a built-in ClusterRole (``cluster-admin`` here, since the harness
   runs no aggregation controller to fill ``admin``/``edit``; those too in a real cluster) for its own
   ``default`` ServiceAccount: ``_binding_why`` only refuses the reconciler's own roles and subjects. Any
   pod of the repo then reads the credentials through the API instead of a volume. Observed live (real
   kube-apiserver, ``Reconciler.reconcile``): the revision SUCCEEDED and a SubjectAccessReview says
   ``system:serviceaccount:<ns>:default`` may ``get`` Secret ``git-creds``. Responsible:
   ``handoff/reconciler/guard.py`` (``_binding_why`` / ``why_borrowing``). Should hold: a binding in a
   namespace holding a configuration Secret that grants a subject read on Secrets (``admin``, ``edit``,
   ``*``, or a Role naming the Secret) is refused, as the volume mount is."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest

from handoff.reconciler.authority import grant_of, namespace_covered
from handoff.reconciler.config import Authority, Settings, Source
from handoff.reconciler.guard import borrowing_identity, configuration_secrets
from handoff.reconciler.loop import Reconciler
from handoff.reconciler.status import REFUSED, SUCCEEDED

from .cluster import new_cluster

NS = "handoff-system"
ADMISSION = "admissionregistration.k8s.io/v1beta1"
KINDS = ("MutatingAdmissionPolicyBinding",)
TENANT = Source(name="a", url="https://git.example/x.git", namespace="team-a", secrets=("team-a/git-creds",),
                authority=Authority(namespaces=("team-a",), cluster_kinds=KINDS))
SETTINGS = Settings(sources=(TENANT,), namespace=NS)
CONFINED = {"matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "In", "values": ["team-a"]}]}


def _binding(group: str, resource: str) -> dict[str, Any]:
    # binds the operator's cluster policy "inject-sidecar" (not in the repo), with the repo's own params
    return {"apiVersion": ADMISSION, "kind": "MutatingAdmissionPolicyBinding", "metadata": {"name": "mine"},
            "spec": {"policyName": "inject-sidecar",
                     "paramRef": {"name": "sidecar-params", "namespace": "team-a",
                                  "parameterNotFoundAction": "Deny"},
                     "matchResources": {"namespaceSelector": CONFINED, "resourceRules": [
                         {"apiGroups": [group], "apiVersions": ["*"], "operations": ["CREATE"],
                          "resources": [resource], "scope": "Namespaced"}]}}}


def _refused(objects: list[dict[str, Any]], *, mutating_pods: bool = False) -> list[Any]:
    return borrowing_identity(objects, SETTINGS, configuration_secrets(SETTINGS.sources), KINDS,
                              namespace_covered(grant_of(TENANT, NS), NS), mutating_pods=mutating_pods)



@pytest.mark.parametrize(("group", "resource"), [("", "pods"), ("apps", "deployments"), ("batch", "jobs")])
def test_a_mutating_binding_of_a_cluster_policy_onto_the_sources_pods_needs_allow_mutating_pods(
        group: str, resource: str) -> None:
    assert _refused([_binding(group, resource)]), (
        f"a MutatingAdmissionPolicyBinding picking {group}/{resource} in the source's namespace, binding a "
        "pod-rewriting policy the cluster already has (params from the repo's ConfigMap), was admitted "
        "without allowMutatingPods: it rewrites the source's pods after the floor and the identity guard ran")



@pytest.mark.parametrize(("group", "resource"), [("rbac.authorization.k8s.io", "rolebindings"), ("", "secrets")])
def test_a_mutating_binding_onto_identity_resources_is_refused_whatever_the_grant(group: str, resource: str) -> None:
    assert _refused([_binding(group, resource)], mutating_pods=True), (
        f"a MutatingAdmissionPolicyBinding picking {group}/{resource} (binding a cluster policy) was admitted "
        "with allowMutatingPods: it rewrites what the identity guard judged, which no grant may waive")


def _yaml(ns: str) -> str:
    return f"""apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {{name: ops, namespace: {ns}}}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}}
subjects: [{{kind: ServiceAccount, name: default, namespace: {ns}}}]
"""


CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: app}}\ndata: {{rev: \"{rev}\"}}\n"


@pytest.mark.tools
@pytest.mark.slow
def test_a_rolebinding_cannot_give_the_repos_pods_read_on_the_sources_git_credentials(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    c = new_cluster(apiserver, git_server, tmp_path, {"app/cm.yaml": CM.format(rev=1)})
    ns = c.target_ns
    c.client.apply({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "git-creds", "namespace": ns},
                    "stringData": {"password": "s3cret"}}, manager="operator")
    rec = Reconciler(c.settings(renderer="plain", secrets=(f"{ns}/git-creds",)), c.client, c.workdir)
    # the stated protection: a pod of the repo mounting the Source's credentials is refused
    c.repo.commit({"app/pod.yaml": f"""apiVersion: v1
kind: Pod
metadata: {{name: p, namespace: {ns}}}
spec:
  containers: [{{name: c, image: registry.example/x:1, volumeMounts: [{{name: s, mountPath: /s}}]}}]
  volumes: [{{name: s, secret: {{secretName: git-creds}}}}]
"""}, "mount the credentials")
    refused = rec.reconcile(rec.settings.sources[0])
    assert refused.result == REFUSED, refused.message
    c.repo.commit({"app/pod.yaml": None, "app/rb.yaml": _yaml(ns)}, "bind admin to default instead")
    try:
        result = rec.reconcile(rec.settings.sources[0])
        review = c.client.request("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", body={
            "apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
            "spec": {"user": f"system:serviceaccount:{ns}:default",
                     "groups": ["system:serviceaccounts", f"system:serviceaccounts:{ns}", "system:authenticated"],
                     "resourceAttributes": {"namespace": ns, "verb": "get", "resource": "secrets",
                                            "name": "git-creds"}}})
        allowed = bool((review.get("status") or {}).get("allowed"))
        assert not (result.result == SUCCEEDED and allowed), (
            f"a Pod mounting the Source's git-credentials Secret is refused, but a RoleBinding of ClusterRole "
            f"cluster-admin to {ns}/default was applied ({result.result}: {result.message}) and now any pod "
            "of the repo "
            "may GET Secret git-creds through the API")
    finally:
        with contextlib.suppress(Exception):
            c.client.delete("rbac.authorization.k8s.io/v1", "RoleBinding", "ops", ns)
