"""atk14j: the RBAC guard (``why_granting_secrets``) and the takeover guard (``_refuse_admission_takeover``)
judge too little. Each test drives ``Reconciler.reconcile`` against a real kube-apiserver + etcd and measures
the outcome with a SubjectAccessReview (or the API itself).

1. ``test_a_clusterrolebinding_cannot_hand_the_reconcilers_own_git_credentials_to_the_repos_pods``:
   the reconciler's own Secret ``handoff-git-credentials`` (its namespace; the git credentials of the
   config-file sources, mounted into the reconciler Pod) is one of its own objects (``own_object``), but
   ``why_granting_secrets`` guards only ``configuration_secrets`` (Source objects' Secrets). With no Source
   object Secret at all, ``guarded`` is empty and every binding passes. A source granted ``ClusterRole`` and
   ``ClusterRoleBinding`` applies a ClusterRole ``get secrets`` and a ClusterRoleBinding of it to its own
   ``default`` ServiceAccount: SUCCEEDED, and that ServiceAccount may GET the reconciler's credentials.
   Responsible: ``handoff/reconciler/guard.py`` (``why_granting_secrets``) / ``loop.py`` (``_prepare``, which
   passes only ``configuration_secrets``). Should hold: the reconciler's own credentials are guarded as a
   Source's are (any ClusterRoleBinding of a role that reads them is refused).

2. ``test_a_role_with_patch_on_the_credentials_secret_is_refused_like_get``: ``_READ_VERBS`` is
   get/list/watch/*; a Role granting ``patch`` (or ``update``) on the Source's git-credentials Secret is not
   "reading" it to the guard, but a PATCH ``{}`` answers with the whole Secret, data included. Observed:
   SUCCEEDED, and the repo's ``default`` ServiceAccount (impersonated) reads ``password`` from the PATCH
   response. Responsible: ``guard.py`` (``_READ_VERBS``, ``_reads_secret``). Should hold: every verb whose
   response carries the object (patch, update, and the read verbs) counts as reading it.

3. ``test_a_binding_of_an_aggregated_clusterrole_the_repo_fills_is_refused``: the repo creates ClusterRole
   ``agg`` with an ``aggregationRule`` (no rules of its own: the controller fills them) and ClusterRole
   ``piece`` labelled to be aggregated into it, reading Secrets; a RoleBinding of ``agg`` in the Secret's
   namespace. ``_role_rules`` gives ``agg``'s rules as written in the revision (none), so the binding is
   admitted; in a real cluster the clusterrole-aggregation controller copies ``piece``'s rules into ``agg``
   within a second (the harness runs no controller-manager, so the test emulates that one step and shows the
   SubjectAccessReview). Responsible: ``loop.py`` (``_role_rules``) / ``guard.py`` (``why_granting_secrets``).
   Should hold: a role with an ``aggregationRule`` is judged by the union of every ClusterRole (revision and
   live) its selectors match.

4. ``test_a_source_cannot_take_over_a_bootstrap_clusterrole_bound_to_every_authenticated_user``: the same
   class as the admission takeover just fixed, in the ClusterRole kind. ``system:basic-user`` is bound by
   the API server's bootstrap ClusterRoleBinding to ``system:authenticated``. A source granted ``ClusterRole``
   applies a ClusterRole of that name adding ``get secrets``: SUCCEEDED (the forced apply takes the existing
   object over), and every authenticated identity — every ServiceAccount of every tenant — may GET the
   reconciler's credentials and any Source's. No binding in the revision, so ``why_granting_secrets`` never
   looks. Responsible: ``loop.py`` (``_refuse_admission_takeover`` covers admission kinds only; a pre-existing
   ClusterRole/ClusterRoleBinding no source created is taken over). Should hold: a pre-existing
   cluster-scoped object a source did not create (its owner label) is not taken over — at the least RBAC,
   whose reach is cluster-wide whatever the grant's namespaces — and a role change is judged against every
   live binding of it.

5. ``test_taking_over_an_operators_clusterrole_then_dropping_it_deletes_it``: the operator's ClusterRole
   (bound by the operator to another team) is taken over by a source granted ``ClusterRole`` (its rules
   replaced: the other team loses them), and when the repo drops it prune deletes the operator's object.
   Responsible: ``loop.py`` (takeover) / ``prune.py`` (an adopted object in the inventory is pruned). Should
   hold: as for admission objects, never taken over, never pruned."""

from __future__ import annotations

import base64
import contextlib
import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from handoff.reconciler.config import Authority
from handoff.reconciler.loop import Reconciler
from handoff.reconciler.manifests import GIT_CREDENTIALS_SECRET
from handoff.reconciler.status import SUCCEEDED

from .cluster import new_cluster

RBAC = "rbac.authorization.k8s.io/v1"
CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: app}}\ndata: {{rev: \"{rev}\"}}\n"


def _can(c: Any, user: str, groups: list[str], verb: str, ns: str, name: str) -> bool:
    review = c.client.request("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", body={
        "apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
        "spec": {"user": user, "groups": groups,
                 "resourceAttributes": {"namespace": ns, "verb": verb, "resource": "secrets", "name": name}}})
    return bool((review.get("status") or {}).get("allowed"))


def _sa(ns: str, name: str = "default") -> tuple[str, list[str]]:
    return (f"system:serviceaccount:{ns}:{name}",
            ["system:serviceaccounts", f"system:serviceaccounts:{ns}", "system:authenticated"])


def _secret(c: Any, name: str, ns: str) -> None:
    c.client.apply({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": ns},
                    "stringData": {"password": "s3cret"}}, manager="operator")


@pytest.mark.tools
@pytest.mark.slow
def test_a_clusterrolebinding_cannot_hand_the_reconcilers_own_git_credentials_to_the_repos_pods(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    c = new_cluster(apiserver, git_server, tmp_path, {"app/cm.yaml": CM.format(rev=1)})
    ns, uid = c.target_ns, uuid.uuid4().hex[:6]
    _secret(c, GIT_CREDENTIALS_SECRET, c.control_ns)
    grant = Authority(namespaces=(ns,), cluster_kinds=("ClusterRole", "ClusterRoleBinding"))
    rec = Reconciler(c.settings(renderer="plain", authority=grant), c.client, c.workdir)
    role, binding = f"reader-{uid}", f"reader-{uid}"
    # the stated protection: the reconciler's own Secret may not be named by the repo
    c.repo.commit({"app/s.yaml": f"apiVersion: v1\nkind: Secret\nmetadata: {{name: {GIT_CREDENTIALS_SECRET}, "
                                 f"namespace: {c.control_ns}}}\nstringData: {{password: x}}\n"}, "own secret")
    assert rec.reconcile(rec.settings.sources[0]).result != SUCCEEDED
    c.repo.commit({"app/s.yaml": None, "app/rbac.yaml": f"""apiVersion: {RBAC}
kind: ClusterRole
metadata: {{name: {role}}}
rules: [{{apiGroups: [""], resources: [secrets], verbs: [get]}}]
---
apiVersion: {RBAC}
kind: ClusterRoleBinding
metadata: {{name: {binding}}}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: {role}}}
subjects: [{{kind: ServiceAccount, name: default, namespace: {ns}}}]
"""}, "read every secret instead")
    try:
        result = rec.reconcile(rec.settings.sources[0])
        allowed = _can(c, *_sa(ns), "get", c.control_ns, GIT_CREDENTIALS_SECRET)
        assert not (result.result == SUCCEEDED and allowed), (
            f"a ClusterRoleBinding of a ClusterRole reading Secrets to {ns}/default was applied "
            f"({result.result}: {result.message}); the repo's pods may now GET the reconciler's own "
            f"{c.control_ns}/{GIT_CREDENTIALS_SECRET}")
    finally:
        with contextlib.suppress(Exception):
            c.client.delete(RBAC, "ClusterRoleBinding", binding)
        with contextlib.suppress(Exception):
            c.client.delete(RBAC, "ClusterRole", role)


@pytest.mark.tools
@pytest.mark.slow
def test_a_role_with_patch_on_the_credentials_secret_is_refused_like_get(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    c = new_cluster(apiserver, git_server, tmp_path, {"app/cm.yaml": CM.format(rev=1)})
    ns = c.target_ns
    _secret(c, "git-creds", ns)
    rec = Reconciler(c.settings(renderer="plain", secrets=(f"{ns}/git-creds",)), c.client, c.workdir)
    get_yaml = f"""apiVersion: {RBAC}
kind: Role
metadata: {{name: creds, namespace: {ns}}}
rules: [{{apiGroups: [""], resources: [secrets], resourceNames: [git-creds], verbs: [VERB]}}]
---
apiVersion: {RBAC}
kind: RoleBinding
metadata: {{name: creds, namespace: {ns}}}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: Role, name: creds}}
subjects: [{{kind: ServiceAccount, name: default, namespace: {ns}}}]
"""
    c.repo.commit({"app/rbac.yaml": get_yaml.replace("VERB", "get")}, "get: the fixed case")
    assert rec.reconcile(rec.settings.sources[0]).result != SUCCEEDED, "set-up: the get Role is not refused"
    c.repo.commit({"app/rbac.yaml": get_yaml.replace("VERB", "patch")}, "patch instead")
    result = rec.reconcile(rec.settings.sources[0])
    user, groups = _sa(ns)
    read = ""
    with contextlib.suppress(Exception):
        as_pod = c.client.impersonating(user, tuple(groups))
        got = as_pod.request("PATCH", f"/api/v1/namespaces/{ns}/secrets/git-creds", body={},
                             content_type="application/merge-patch+json")
        read = base64.b64decode((got.get("data") or {}).get("password", "")).decode()
    assert not (result.result == SUCCEEDED and read), (
        f"a Role with verb patch on Secret git-creds bound to {ns}/default was applied ({result.result}: "
        f"{result.message}); an empty PATCH as that ServiceAccount returned the Source's git password {read!r}")


@pytest.mark.tools
@pytest.mark.slow
def test_a_binding_of_an_aggregated_clusterrole_the_repo_fills_is_refused(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    c = new_cluster(apiserver, git_server, tmp_path, {"app/cm.yaml": CM.format(rev=1)})
    ns, uid = c.target_ns, uuid.uuid4().hex[:6]
    _secret(c, "git-creds", ns)
    grant = Authority(namespaces=(ns,), cluster_kinds=("ClusterRole",))
    rec = Reconciler(c.settings(renderer="plain", secrets=(f"{ns}/git-creds",), authority=grant),
                     c.client, c.workdir)
    agg, piece = f"agg-{uid}", f"piece-{uid}"
    c.repo.commit({"app/rbac.yaml": f"""apiVersion: {RBAC}
kind: ClusterRole
metadata: {{name: {agg}}}
aggregationRule: {{clusterRoleSelectors: [{{matchLabels: {{example.com/aggregate-to: {agg}}}}}]}}
---
apiVersion: {RBAC}
kind: ClusterRole
metadata: {{name: {piece}, labels: {{example.com/aggregate-to: {agg}}}}}
rules: [{{apiGroups: [""], resources: [secrets], verbs: [get]}}]
---
apiVersion: {RBAC}
kind: RoleBinding
metadata: {{name: agg, namespace: {ns}}}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: {agg}}}
subjects: [{{kind: ServiceAccount, name: default, namespace: {ns}}}]
"""}, "bind an aggregated role")
    try:
        result = rec.reconcile(rec.settings.sources[0])
        allowed = False
        if result.result == SUCCEEDED:
            # what kube-controller-manager's clusterrole-aggregation controller does next (not run here)
            live = c.client.get(RBAC, "ClusterRole", agg) or {}
            rules = (c.client.get(RBAC, "ClusterRole", piece) or {}).get("rules") or []
            c.client.request("PATCH", f"/apis/rbac.authorization.k8s.io/v1/clusterroles/{agg}",
                             body={"rules": rules}, content_type="application/merge-patch+json")
            allowed = _can(c, *_sa(ns), "get", ns, "git-creds")
            assert live, "set-up"
        assert result.result != SUCCEEDED, (
            f"a RoleBinding in {ns} of ClusterRole {agg} (an aggregationRule picking the repo's {piece}, which "
            f"reads Secrets) was applied ({result.result}: {result.message}); once aggregated, {ns}/default "
            f"{'may' if allowed else 'would'} GET the Source's git-creds")
    finally:
        for name in (agg, piece):
            with contextlib.suppress(Exception):
                c.client.delete(RBAC, "ClusterRole", name)


def _restore(c: Any, saved: dict[str, Any]) -> None:
    name = saved["metadata"]["name"]
    body = json.loads(json.dumps(saved))
    for key in ("resourceVersion", "uid", "managedFields", "creationTimestamp"):
        body["metadata"].pop(key, None)
    live = c.client.get(RBAC, "ClusterRole", name)
    if live is None:
        c.client.request("POST", "/apis/rbac.authorization.k8s.io/v1/clusterroles", body=body)
    else:
        body["metadata"]["resourceVersion"] = live["metadata"]["resourceVersion"]
        c.client.request("PUT", f"/apis/rbac.authorization.k8s.io/v1/clusterroles/{name}", body=body)


@pytest.mark.tools
@pytest.mark.slow
def test_a_source_cannot_take_over_a_bootstrap_clusterrole_bound_to_every_authenticated_user(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    c = new_cluster(apiserver, git_server, tmp_path, {"app/cm.yaml": CM.format(rev=1)})
    ns = c.target_ns
    _secret(c, GIT_CREDENTIALS_SECRET, c.control_ns)
    saved = c.client.get(RBAC, "ClusterRole", "system:basic-user")
    assert saved is not None, "set-up: no bootstrap ClusterRole system:basic-user"
    stranger = _sa("some-other-team", "anything")
    assert not _can(c, *stranger, "get", c.control_ns, GIT_CREDENTIALS_SECRET), "set-up"
    grant = Authority(namespaces=(ns,), cluster_kinds=("ClusterRole",))
    rec = Reconciler(c.settings(renderer="plain", authority=grant), c.client, c.workdir)
    c.repo.commit({"app/role.yaml": f"""apiVersion: {RBAC}
kind: ClusterRole
metadata: {{name: "system:basic-user"}}
rules:
- {{apiGroups: [authorization.k8s.io], resources: [selfsubjectaccessreviews, selfsubjectrulesreviews], verbs: [create]}}
- {{apiGroups: [""], resources: [secrets], verbs: [get, list]}}
"""}, "a ClusterRole named as the bootstrap one")
    try:
        result = rec.reconcile(rec.settings.sources[0])
        allowed = _can(c, *stranger, "get", c.control_ns, GIT_CREDENTIALS_SECRET)
        assert not (result.result == SUCCEEDED and allowed), (
            f"the source took over ClusterRole system:basic-user (bound to system:authenticated) "
            f"({result.result}: {result.message}); any ServiceAccount of any namespace may now GET the "
            f"reconciler's {c.control_ns}/{GIT_CREDENTIALS_SECRET}")
    finally:
        _restore(c, saved)


@pytest.mark.tools
@pytest.mark.slow
def test_taking_over_an_operators_clusterrole_then_dropping_it_deletes_it(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    c = new_cluster(apiserver, git_server, tmp_path, {"app/cm.yaml": CM.format(rev=1)})
    ns, uid = c.target_ns, uuid.uuid4().hex[:6]
    role, other = f"op-team-b-{uid}", f"team-b-{uid}"
    c.client.apply({"apiVersion": RBAC, "kind": "ClusterRole", "metadata": {"name": role},
                    "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}]},
                   manager="operator")
    c.client.apply({"apiVersion": RBAC, "kind": "ClusterRoleBinding", "metadata": {"name": role},
                    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
                    "subjects": [{"kind": "Group", "name": f"system:serviceaccounts:{other}",
                                  "apiGroup": "rbac.authorization.k8s.io"}]}, manager="operator")
    grant = Authority(namespaces=(ns,), cluster_kinds=("ClusterRole",))
    rec = Reconciler(c.settings(renderer="plain", authority=grant), c.client, c.workdir)
    try:
        c.repo.commit({"app/role.yaml": f"""apiVersion: {RBAC}
kind: ClusterRole
metadata: {{name: {role}}}
rules: [{{apiGroups: [""], resources: [pods], verbs: [get]}}]
""", "app/cm.yaml": CM.format(rev=2)}, "a ClusterRole named as the operator's")
        first = rec.reconcile(rec.settings.sources[0])
        taken = (c.client.get(RBAC, "ClusterRole", role) or {}).get("rules")
        c.repo.commit({"app/role.yaml": None, "app/cm.yaml": CM.format(rev=3)}, "drop it")
        rec.reconcile(rec.settings.sources[0])
        gone = c.client.get(RBAC, "ClusterRole", role) is None
        assert first.result != SUCCEEDED and not gone, (
            f"the source took over the operator's ClusterRole {role} ({first.result}; its rules are now "
            f"{taken}: team {other} lost configmaps get/list), and dropping it from the repo "
            f"{'deleted' if gone else 'kept'} the operator's object")
    finally:
        for kind in ("ClusterRoleBinding", "ClusterRole"):
            with contextlib.suppress(Exception):
                c.client.delete(RBAC, kind, role)
