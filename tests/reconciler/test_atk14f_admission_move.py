"""atk14f: the source's own admission policy moved to another source of the same reconciler in one commit
(a/policy.yaml -> b/policy.yaml). ``_admission_first`` of the giving source must not delete it early (it is
claimed elsewhere, as prune would keep it), whichever source passes first: its uid is kept and it ends owned
by the receiving source ("never deletes by accident", issue 14). Real kube-apiserver + etcd and git server."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest

from handoff.kube.errors import KubeError
from handoff.reconciler.config import Authority, PruneSettings, Settings
from handoff.reconciler.loop import Reconciler

from .cluster import new_cluster

pytestmark = [pytest.mark.tools, pytest.mark.slow]

ADM = "admissionregistration.k8s.io/v1"
KINDS = ("ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding")
CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: keep-{p}}}\ndata: {{a: b}}\n"


def _policy(name: str, ns: str) -> str:
    selector = f"{{matchExpressions: [{{key: kubernetes.io/metadata.name, operator: In, values: [{ns}]}}]}}"
    rules = "[{apiGroups: [''], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [configmaps]}]"
    return f"""apiVersion: {ADM}
kind: ValidatingAdmissionPolicy
metadata: {{name: {name}}}
spec:
  failurePolicy: Fail
  matchConstraints: {{namespaceSelector: {selector}, resourceRules: {rules}}}
  validations: [{{expression: "true"}}]
---
apiVersion: {ADM}
kind: ValidatingAdmissionPolicyBinding
metadata: {{name: {name}}}
spec:
  policyName: {name}
  validationActions: [Deny]
  matchResources: {{namespaceSelector: {selector}, resourceRules: {rules}}}
"""


@pytest.mark.parametrize("order", ["giver-first", "receiver-first"])
def test_an_admission_policy_moved_between_sources_keeps_its_uid(apiserver: Any, git_server: Any,
                                                                 tmp_path: Path, order: str) -> None:
    c = new_cluster(apiserver, git_server, tmp_path, {"a/keep.yaml": CM.format(p="a"),
                                                      "b/keep.yaml": CM.format(p="b")})
    name = f"moved-{c.target_ns}"
    c.repo.commit({"a/policy.yaml": _policy(name, c.target_ns)}, "rev 1: the policy in a")
    grant = Authority(namespaces=(c.target_ns,), cluster_kinds=KINDS)
    a = c.source(name="team-a", path="a", renderer="plain", authority=grant)
    b = c.source(name="team-b", path="b", renderer="plain", authority=grant)
    rec = Reconciler(Settings(sources=(a, b), namespace=c.control_ns, prune=PruneSettings(),
                              leader_election=False), c.client, c.workdir)
    try:
        assert rec.reconcile(a).ok and rec.reconcile(b).ok
        uid = c.client.get(ADM, "ValidatingAdmissionPolicy", name)["metadata"]["uid"]  # type: ignore[index]
        c.repo.commit({"a/policy.yaml": None, "b/policy.yaml": _policy(name, c.target_ns)}, "move it to b")
        results = [rec.reconcile(s) for s in ((a, b) if order == "giver-first" else (b, a))]
        results += [rec.reconcile(s) for s in (a, b)]  # a second round settles a refused take-over
        live = c.client.get(ADM, "ValidatingAdmissionPolicy", name)
        assert live is not None and live["metadata"]["uid"] == uid, (
            f"the admission policy moved from team-a to team-b in one commit was deleted ({order}): "
            f"{[(r.source, r.result, r.message[:200]) for r in results]}")
    finally:
        for kind in KINDS:
            with contextlib.suppress(KubeError):
                c.client.delete(ADM, kind, name)
