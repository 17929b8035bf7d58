"""atk14k F6: RBAC applied before a Secret becomes a Source's git credentials is never judged again.

Attack: ``rbacreach.reaching`` guards the Secrets of the sources served *at the time of the pass*
(``Guarded.of(configuration_secrets(self.sources()), …)``) and judges only the revision's own RBAC. Source
``a`` (granted ``ClusterRole``/``ClusterRoleBinding``) binds to its pods ``get secrets`` with
``resourceNames: [git-creds]`` — a name, no namespace; no Source uses such a Secret yet, so it SUCCEEDED.
The operator then adds source ``b`` (or resumes a suspended Source object, or a Source whose Secret
arrives later: ``hold``/waiting sources are not in ``self.sources()``) whose credentials are
``<ns>/git-creds``.

Observed: ``a``'s next pass (same revision: a drift pass only) and ``b``'s pass both SUCCEEDED; nothing
reports the binding, and ``<ns>:default`` (``a``'s pods) may GET ``b``'s git credentials
(SubjectAccessReview).

Responsible: ``handoff/reconciler/loop.py`` (``_prepare`` is the only caller of ``rbacreach.reaching``;
``_drift_pass`` and ``set_source`` never re-judge live RBAC against a newly guarded Secret).

Should hold: when a Secret becomes a served Source's git credentials, the live RBAC the sources applied is
judged against it (the source reaching it is refused/flagged, or the new Source is Stalled naming the
binding), so a repo never ends up holding another Source's credentials."""

from __future__ import annotations

import contextlib
import uuid
from pathlib import Path
from typing import Any

import pytest

from handoff.reconciler.config import Authority, PruneSettings, Settings
from handoff.reconciler.loop import Reconciler

from .cluster import new_cluster

pytestmark = [pytest.mark.tools, pytest.mark.slow]

RBAC = "rbac.authorization.k8s.io/v1"
CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}}}\ndata: {{rev: \"{rev}\"}}\n"


@pytest.mark.xfail(strict=True, reason="open (issue 14, atk14k F6: RBAC is judged when applied, not when a Secret later becomes a Source's)")
def test_rbac_reaching_a_secret_that_later_becomes_a_sources_credentials_is_judged(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    c = new_cluster(apiserver, git_server, tmp_path, {"a/cm.yaml": CM.format(name="a", rev=1),
                                                      "b/cm.yaml": CM.format(name="b", rev=1)})
    ns, uid = c.target_ns, uuid.uuid4().hex[:6]
    role = f"later-{uid}"
    c.client.apply({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "git-creds", "namespace": ns},
                    "stringData": {"password": "s3cret"}}, manager="operator")
    a = c.source(name=f"a-{ns}", path="a", renderer="plain",
                 authority=Authority(namespaces=(ns,), cluster_kinds=("ClusterRole", "ClusterRoleBinding")))
    rec = Reconciler(Settings(sources=(a,), namespace=c.control_ns, prune=PruneSettings(), leader_election=False),
                     c.client, c.workdir)
    c.repo.commit({"a/rbac.yaml": f"""apiVersion: {RBAC}
kind: ClusterRole
metadata: {{name: {role}}}
rules: [{{apiGroups: [""], resources: [secrets], verbs: [get], resourceNames: [git-creds]}}]
---
apiVersion: {RBAC}
kind: ClusterRoleBinding
metadata: {{name: {role}}}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: {role}}}
subjects: [{{kind: ServiceAccount, name: default, namespace: {ns}}}]
"""}, "read a Secret by name")
    try:
        first = rec.reconcile(a)
        assert first.ok, first.message
        b = c.source(name=f"b-{ns}", path="b", renderer="plain", secrets=(f"{ns}/git-creds",),
                     authority=Authority(namespaces=(ns,)))
        rec.set_source(b)
        again, b_pass = rec.reconcile(a), rec.reconcile(b)
        review = c.client.request("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", body={
            "apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
            "spec": {"user": f"system:serviceaccount:{ns}:default",
                     "groups": ["system:serviceaccounts", f"system:serviceaccounts:{ns}", "system:authenticated"],
                     "resourceAttributes": {"namespace": ns, "verb": "get", "resource": "secrets",
                                            "name": "git-creds"}}})
        able = bool((review.get("status") or {}).get("allowed"))
        assert not (again.ok and b_pass.ok and able), (
            f"source b's git credentials {ns}/git-creds are readable by source a's pods through a's "
            f"ClusterRoleBinding {role}, applied before b existed; a: {again.result} ({again.message}), "
            f"b: {b_pass.result} ({b_pass.message}); nothing re-judged it")
    finally:
        with contextlib.suppress(Exception):
            c.client.delete(RBAC, "ClusterRoleBinding", role)
        with contextlib.suppress(Exception):
            c.client.delete(RBAC, "ClusterRole", role)
