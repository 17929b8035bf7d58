"""atk14k F3: RBAC that *changes* existing pods or workloads where git credentials are is not judged.

Attack: ``rbacreach._ESCALATIONS`` counts ``create`` on pods and workloads, but not ``patch``/``update`` of
them, nor ``pods/ephemeralcontainers``, nor the other entries of Kubernetes' RBAC good-practices
escalation list (CSR approval; admission webhook control). The revision binds, to the namespace's
``default`` ServiceAccount:

- ``patch deployments`` in the Source's git-credentials namespace (a Role + RoleBinding: the default grant).
  Its pod then patches any Deployment there to mount the Secret — exactly the Pod ``guard.why_borrowing``
  refuses when the repo declares it (observed: the patch, impersonating ``<ns>:default``, is admitted);
- ``patch pods`` cluster-wide (ClusterRole + ClusterRoleBinding, granted): a pod's container ``image`` is
  mutable, so the reconciler's own Pod in its namespace — which mounts ``handoff-git-credentials`` and the
  reconciler's token — runs the repo's image after one patch;
- ``patch pods/ephemeralcontainers`` cluster-wide: an ephemeral container in the reconciler's Pod, with
  the Pod's volumes (its git credentials) mounted;
- ``create certificatesigningrequests`` + ``update certificatesigningrequests/approval`` + ``approve`` on the
  ``kubernetes.io/kube-apiserver-client`` signer: a client certificate with CN
  ``system:serviceaccount:<ns>:handoff-reconciler`` is the reconciler's identity;
- ``create mutatingwebhookconfigurations`` cluster-wide: a webhook of the pod's own that rewrites the
  reconciler's Pod (or receives every Secret written in its namespace).

Observed: every revision SUCCEEDED, and SubjectAccessReview (or the dry-run patch) says ``<ns>:default`` may
do it. Responsible: ``handoff/reconciler/rbacreach.py`` (``_ESCALATIONS``, ``why_rules_reach``).
docs/SECURITY.md (RBAC row) and docs/reconciler.md list the verbs judged; the module docstring says the list
is "after the RBAC good-practices page", whose list includes CSR approval and webhook control.

Should hold: a binding whose role can rewrite a pod or pod-bearing workload (``patch``/``update``, ephemeral
containers), mint a client certificate, or create admission webhooks where git credentials are (the Secret's
namespace, the reconciler's; cluster-wide for cluster-scoped powers) is refused like ``create pods``."""

from __future__ import annotations

import contextlib
import uuid
from pathlib import Path
from typing import Any

import pytest

from handoff.kube.client import KubeError
from handoff.reconciler.config import Authority
from handoff.reconciler.loop import Reconciler
from handoff.reconciler.status import SUCCEEDED

from .cluster import new_cluster

RBAC = "rbac.authorization.k8s.io/v1"
CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: app}}\ndata: {{rev: \"{rev}\"}}\n"
DEPLOY = """apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      automountServiceAccountToken: false
      containers: [{name: web, image: registry.example/web:1}]
"""


def _allowed(c: Any, user: str, groups: list[str], attrs: dict[str, str]) -> bool:
    review = c.client.request("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", body={
        "apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
        "spec": {"user": user, "groups": groups, "resourceAttributes": attrs}})
    return bool((review.get("status") or {}).get("allowed"))


def _sa(ns: str) -> tuple[str, list[str]]:
    return (f"system:serviceaccount:{ns}:default",
            ["system:serviceaccounts", f"system:serviceaccounts:{ns}", "system:authenticated"])


def _capability(case: str, c: Any, ns: str) -> bool:
    user, groups = _sa(ns)
    if case == "patch-deployments":
        patch = {"spec": {"template": {"spec": {
            "volumes": [{"name": "s", "secret": {"secretName": "git-creds"}}],
            "containers": [{"name": "web", "image": "registry.example/thief:1",
                            "volumeMounts": [{"name": "s", "mountPath": "/s"}]}]}}}}
        try:
            c.client.impersonating(user, tuple(groups)).request(
                "PATCH", f"/apis/apps/v1/namespaces/{ns}/deployments/web", params={"dryRun": "All"},
                body=patch, content_type="application/strategic-merge-patch+json")
        except KubeError:
            return False
        return True
    if case == "patch-pods":
        return _allowed(c, user, groups, {"namespace": c.control_ns, "verb": "patch", "resource": "pods"})
    if case == "ephemeral-containers":
        return _allowed(c, user, groups, {"namespace": c.control_ns, "verb": "patch", "resource": "pods",
                                          "subresource": "ephemeralcontainers"})
    if case == "csr-approve":
        return all((
            _allowed(c, user, groups, {"verb": "create", "group": "certificates.k8s.io",
                                       "resource": "certificatesigningrequests"}),
            _allowed(c, user, groups, {"verb": "update", "group": "certificates.k8s.io",
                                       "resource": "certificatesigningrequests", "subresource": "approval"}),
            _allowed(c, user, groups, {"verb": "approve", "group": "certificates.k8s.io", "resource": "signers",
                                       "name": "kubernetes.io/kube-apiserver-client"})))
    if case == "webhooks":
        return _allowed(c, user, groups, {"verb": "create", "group": "admissionregistration.k8s.io",
                                          "resource": "mutatingwebhookconfigurations"})
    raise AssertionError(case)


RULES = {
    "patch-deployments": '[{apiGroups: [apps], resources: [deployments], verbs: [get, patch]}]',
    "patch-pods": '[{apiGroups: [""], resources: [pods], verbs: [patch]}]',
    "ephemeral-containers": '[{apiGroups: [""], resources: [pods/ephemeralcontainers], verbs: [patch]}]',
    "csr-approve": '[{apiGroups: [certificates.k8s.io], resources: [certificatesigningrequests], verbs: [create]}, '
                   '{apiGroups: [certificates.k8s.io], resources: [certificatesigningrequests/approval], '
                   'verbs: [update]}, {apiGroups: [certificates.k8s.io], resources: [signers], verbs: [approve], '
                   'resourceNames: [kubernetes.io/kube-apiserver-client]}]',
    "webhooks": '[{apiGroups: [admissionregistration.k8s.io], resources: [mutatingwebhookconfigurations], '
                'verbs: [create]}]',
}
CLUSTER_WIDE = {"patch-pods", "ephemeral-containers", "csr-approve", "webhooks"}


@pytest.mark.tools
@pytest.mark.slow
@pytest.mark.parametrize("case", list(RULES))
def test_a_binding_that_rewrites_pods_or_mints_identities_where_credentials_are_is_refused(
        case: str, apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    c = new_cluster(apiserver, git_server, tmp_path, {"app/cm.yaml": CM.format(rev=1), "app/web.yaml": DEPLOY})
    ns, uid = c.target_ns, uuid.uuid4().hex[:6]
    c.client.apply({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "git-creds", "namespace": ns},
                    "stringData": {"password": "s3cret"}}, manager="operator")
    grant = Authority(namespaces=(ns,), cluster_kinds=("ClusterRole", "ClusterRoleBinding")) \
        if case in CLUSTER_WIDE else None
    rec = Reconciler(c.settings(renderer="plain", secrets=(f"{ns}/git-creds",), authority=grant),
                     c.client, c.workdir)
    source = rec.settings.sources[0]
    assert rec.reconcile(source).result == SUCCEEDED
    role = f"mut-{case}-{uid}"
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
        result = rec.reconcile(source)
        able = _capability(case, c, ns)
        assert not (result.result == SUCCEEDED and able), (
            f"a {binding_kind} of a {role_kind} granting {RULES[case]} to {ns}/default was applied "
            f"({result.result}: {result.message}); {ns}/default can now {case} — a way to the git credentials "
            "(or the reconciler's identity) rbacreach does not count")
    finally:
        with contextlib.suppress(Exception):
            c.client.delete(RBAC, "ClusterRoleBinding", role)
        with contextlib.suppress(Exception):
            c.client.delete(RBAC, "ClusterRole", role)
