"""atk14j: a RoleBinding of a ClusterRole that does not exist yet is "left to RBAC" by
``why_granting_secrets`` (``rules_of`` gives None: neither in the revision nor live), and the role's
rules are judged only when a binding of it is in the same pass. Two sources of one reconciler split the
two halves: tenant A (default grant, its Source's git-credentials Secret in its namespace) binds ClusterRole
``creds-<uid>`` to its ``default`` ServiceAccount before it exists; source B (a platform source granted
``ClusterRole``, no binding in its revision) then creates that ClusterRole with ``get secrets``. Each revision
alone passes every guard; together A's pods read A's git credentials (in the order B-then-A, A's binding
would be judged by the live rules and refused, by the code: the check is by pass, not by outcome). A single source does the same over two revisions only if the
ClusterRole comes from elsewhere (a controller, an operator's chart, a Helm hook of another tool).

Observed (real kube-apiserver, ``Reconciler.reconcile``): both SUCCEEDED and a SubjectAccessReview says
``system:serviceaccount:<A's ns>:default`` may GET the Secret. Responsible: ``handoff/reconciler/guard.py`` (``why_granting_secrets``: None
rules are admitted) / ``loop.py`` (``_role_rules``; a ClusterRole another source writes is never judged
against the live bindings of it). Should hold: a binding of a role whose rules cannot be known is refused
when it sits where a guarded Secret is (or is a ClusterRoleBinding), and a ClusterRole a revision writes is
judged against the live bindings of it in guarded namespaces."""

from __future__ import annotations

import contextlib
import uuid
from pathlib import Path
from typing import Any

import pytest

from handoff.reconciler.config import Authority, PruneSettings, Settings
from handoff.reconciler.loop import Reconciler
from handoff.reconciler.status import SUCCEEDED

from .cluster import new_cluster

RBAC = "rbac.authorization.k8s.io/v1"


@pytest.mark.tools
@pytest.mark.slow
def test_a_binding_of_a_clusterrole_another_source_creates_later_is_refused(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    uid = uuid.uuid4().hex[:6]
    role = f"creds-{uid}"
    c = new_cluster(apiserver, git_server, tmp_path, {"a/cm.yaml": "apiVersion: v1\nkind: ConfigMap\n"
                                                                   "metadata: {name: a}\n"})
    ns = c.target_ns
    platform_ns = f"platform-{uid}"
    c.client.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": platform_ns}})
    c.client.apply({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "git-creds", "namespace": ns},
                    "stringData": {"password": "s3cret"}}, manager="operator")
    c.repo.commit({"a/rb.yaml": f"""apiVersion: {RBAC}
kind: RoleBinding
metadata: {{name: creds}}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: {role}}}
subjects: [{{kind: ServiceAccount, name: default, namespace: {ns}}}]
""", "b/role.yaml": f"""apiVersion: {RBAC}
kind: ClusterRole
metadata: {{name: {role}}}
rules: [{{apiGroups: [""], resources: [secrets], verbs: [get]}}]
"""}, "two halves")
    a = c.source(name="tenant-a", path="a", renderer="plain", secrets=(f"{ns}/git-creds",))
    b = c.source(name="platform", path="b", renderer="plain", namespace=platform_ns,
                 authority=Authority(namespaces=(platform_ns,), cluster_kinds=("ClusterRole",)))
    rec = Reconciler(Settings(sources=(a, b), namespace=c.control_ns, prune=PruneSettings(),
                              leader_election=False), c.client, c.workdir)
    try:
        first, second = rec.reconcile(a), rec.reconcile(b)
        review = c.client.request("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", body={
            "apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
            "spec": {"user": f"system:serviceaccount:{ns}:default",
                     "groups": ["system:serviceaccounts", f"system:serviceaccounts:{ns}", "system:authenticated"],
                     "resourceAttributes": {"namespace": ns, "verb": "get", "resource": "secrets",
                                            "name": "git-creds"}}})
        allowed = bool((review.get("status") or {}).get("allowed"))
        assert not (first.result == SUCCEEDED and second.result == SUCCEEDED and allowed), (
            f"tenant A's RoleBinding of the not-yet-existing ClusterRole {role} ({first.result}) and the "
            f"platform source's ClusterRole {role} reading Secrets ({second.result}) were both applied; "
            f"{ns}/default may now GET tenant A's Source credentials git-creds")
    finally:
        with contextlib.suppress(Exception):
            c.client.delete(RBAC, "ClusterRole", role)
