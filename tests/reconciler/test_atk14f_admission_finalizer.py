"""atk14f: the source's own admission policy, failing closed on its ConfigMaps, carries a finalizer the repo
set (``metadata.finalizers`` on the policy and its binding). The revert commit drops it: ``_admission_first``
deletes it before the preflight, but the delete only marks it Terminating and a Terminating policy is still
enforced, so the revert is denied again and again: delivery frozen by the repo, the class atk14e E1 fixed
("never half-applies", issue 14). The reconciler owns what the revision drops and may finish the deletion
(remove finalizers no controller serves). Real kube-apiserver + etcd and git server."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest

from handoff.kube.errors import KubeError
from handoff.reconciler.config import Authority
from handoff.reconciler.loop import Reconciler
from handoff.report.model import ObjectRef

from .cluster import new_cluster

pytestmark = [pytest.mark.tools, pytest.mark.slow]

ADM = "admissionregistration.k8s.io/v1"
CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}}}\ndata: {{rev: \"{rev}\"}}\n"
KINDS = ("ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding")


def _policy(name: str, ns: str) -> str:
    # fails closed on any ConfigMap write at rev 2 (dry-runs included), confined to the source's namespace
    selector = f"{{matchExpressions: [{{key: kubernetes.io/metadata.name, operator: In, values: [{ns}]}}]}}"
    rules = "[{apiGroups: [''], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [configmaps]}]"
    return f"""apiVersion: {ADM}
kind: ValidatingAdmissionPolicy
metadata: {{name: {name}, finalizers: [example.com/hold]}}
spec:
  failurePolicy: Fail
  matchConstraints: {{namespaceSelector: {selector}, resourceRules: {rules}}}
  validations: [{{expression: "!has(object.data) || !('rev' in object.data) || object.data.rev != '2'",
                  message: "rev 2 is refused"}}]
---
apiVersion: {ADM}
kind: ValidatingAdmissionPolicyBinding
metadata: {{name: {name}, finalizers: [example.com/hold]}}
spec:
  policyName: {name}
  validationActions: [Deny]
  matchResources: {{namespaceSelector: {selector}, resourceRules: {rules}}}
"""


def test_a_dropped_admission_policy_with_its_own_finalizer_cannot_freeze_the_revert(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    c = new_cluster(apiserver, git_server, tmp_path, {"app/cm.yaml": CM.format(name="app", rev=1)})
    name = f"own-{c.target_ns}"
    c.repo.commit({"app/policy.yaml": _policy(name, c.target_ns)}, "rev 1: a policy of its own, held")
    rec = Reconciler(c.settings(renderer="plain", authority=Authority(
        namespaces=(c.target_ns,), cluster_kinds=KINDS)), c.client, c.workdir)
    source = rec.settings.sources[0]
    try:
        first = rec.reconcile(source)
        assert first.ok, first.message
        c.repo.commit({"app/policy.yaml": None, "app/cm.yaml": CM.format(name="app", rev=2)},
                      "rev 2: the revert: drop the policy, ConfigMap at rev 2")
        for _ in range(2):  # the second pass comes long after the API server's policy cache caught up
            reverted = rec.reconcile(source)
            if reverted.ok:
                break
        rev = (c.get("v1", "ConfigMap", "app") or {}).get("data", {}).get("rev")
        assert reverted.ok and rev == "2", (
            "the revert that drops the source's own fail-closed policy (with a finalizer the repo set) was "
            f"denied by that very policy, still enforced while Terminating: ConfigMap rev {rev}; "
            f"{reverted.result}: {reverted.message[:400]}")
    finally:
        for kind in KINDS:
            with contextlib.suppress(KubeError):
                c.client.patch(ObjectRef(ADM, kind, name), [{"op": "remove", "path": "/metadata/finalizers"}])
            with contextlib.suppress(KubeError):
                c.client.delete(ADM, kind, name)
