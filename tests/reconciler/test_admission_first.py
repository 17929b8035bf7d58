"""A source's own webhooks and admission policies that a revision removes or changes are deleted or applied
before the rest of it is preflighted (issue 14, atk14e E1: one failing closed on the source's objects would
deny the very revert that removes it), and the revision stays atomic: when the rest is rejected, at
preflight or midway, those admission objects are put back as they were. Real kube-apiserver + etcd and git
server."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest

from handoff.kube.errors import KubeError
from handoff.reconciler import inventory
from handoff.reconciler.config import Authority
from handoff.reconciler.loop import Reconciler
from handoff.reconciler.status import FAILED

from .cluster import Cluster, new_cluster

pytestmark = [pytest.mark.tools, pytest.mark.slow]

ADM = "admissionregistration.k8s.io/v1"
CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}}}\ndata: {{rev: \"{rev}\"}}\n"


def _policy(name: str, ns: str, message: str) -> str:
    # harmless (always true), confined to the source's namespace as a namespace-confined grant requires
    selector = f"{{matchExpressions: [{{key: kubernetes.io/metadata.name, operator: In, values: [{ns}]}}]}}"
    rules = "[{apiGroups: [''], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [configmaps]}]"
    return f"""apiVersion: {ADM}
kind: ValidatingAdmissionPolicy
metadata: {{name: {name}}}
spec:
  failurePolicy: Fail
  matchConstraints: {{namespaceSelector: {selector}, resourceRules: {rules}}}
  validations: [{{expression: "true", message: "{message}"}}]
---
apiVersion: {ADM}
kind: ValidatingAdmissionPolicyBinding
metadata: {{name: {name}}}
spec:
  policyName: {name}
  validationActions: [Deny]
  matchResources: {{namespaceSelector: {selector}, resourceRules: {rules}}}
"""


def _bad_deployment() -> str:  # the API server rejects it (selector does not match the template's labels)
    return """apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: other}}
    spec:
      containers:
        - name: web
          image: registry.example/web:1.0.0
          resources: {requests: {cpu: 100m, memory: 64Mi}, limits: {cpu: 200m, memory: 128Mi}}
"""


def _reconciler(c: Cluster) -> Reconciler:
    return Reconciler(c.settings(renderer="plain", authority=Authority(
        namespaces=(c.target_ns,), cluster_kinds=("ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"))),
        c.client, c.workdir)


def _message(c: Cluster, name: str) -> str | None:
    policy = c.client.get(ADM, "ValidatingAdmissionPolicy", name)
    return None if policy is None else str(policy["spec"]["validations"][0]["message"])


def _cleanup(c: Cluster, *names: str) -> None:
    for name in names:
        for kind in ("ValidatingAdmissionPolicyBinding", "ValidatingAdmissionPolicy"):
            with contextlib.suppress(KubeError):
                c.client.delete(ADM, kind, name)


@pytest.mark.parametrize("change", ["removed", "changed"])
def test_a_revision_rejected_at_preflight_puts_its_early_admission_changes_back(
        apiserver: Any, git_server: Any, tmp_path: Path, change: str) -> None:
    c = new_cluster(apiserver, git_server, tmp_path, {"app/cm.yaml": CM.format(name="app", rev=1)})
    name = f"own-{c.target_ns}"
    c.repo.commit({"app/policy.yaml": _policy(name, c.target_ns, "one")}, "rev 1: a policy of its own")
    rec = _reconciler(c)
    source = rec.settings.sources[0]
    try:
        first = rec.reconcile(source)
        assert first.ok, first.message
        binding_uid = c.client.get(ADM, "ValidatingAdmissionPolicyBinding", name)["metadata"]["uid"]  # type: ignore[index]
        policy = None if change == "removed" else _policy(name, c.target_ns, "two")
        c.repo.commit({"app/policy.yaml": policy, "app/cm.yaml": CM.format(name="app", rev=2),
                       "app/web.yaml": _bad_deployment()}, f"rev 2: policy {change}, and a rejected Deployment")
        failed = rec.reconcile(source)
        assert failed.result == FAILED and "Deployment" in failed.message, failed.message
        assert "roll-back incomplete" not in failed.message, failed.message
        assert _message(c, name) == "one", "the policy the rejected revision removed or changed was not put back"
        binding = c.client.get(ADM, "ValidatingAdmissionPolicyBinding", name)
        # a removed one was deleted before the preflight and created again (a new uid); a changed one kept
        assert binding is not None and (binding["metadata"]["uid"] != binding_uid) == (change == "removed")
        assert (c.get("v1", "ConfigMap", "app") or {}).get("data", {}).get("rev") == "1"
        listed = inventory.read(c.client, c.control_ns, source.name)
        assert listed is not None and not listed.pending and listed.revision == first.applied_revision
        assert {r.kind for r in listed.objects} >= {"ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"}
        c.repo.commit({"app/web.yaml": None}, "rev 3: without the Deployment")
        fixed = rec.reconcile(source)
        assert fixed.ok, fixed.message
        assert _message(c, name) == (None if change == "removed" else "two")
        assert (c.get("v1", "ConfigMap", "app") or {}).get("data", {}).get("rev") == "2"
    finally:
        _cleanup(c, name)


def test_a_revision_rejected_midway_puts_a_removed_admission_policy_back(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    c = new_cluster(apiserver, git_server, tmp_path, {"app/a.yaml": CM.format(name="a", rev=1),
                                                      "app/b.yaml": CM.format(name="b", rev=1)})
    name, operators = f"own-{c.target_ns}", f"op-{c.target_ns}"
    c.repo.commit({"app/policy.yaml": _policy(name, c.target_ns, "one")}, "rev 1: a policy of its own")
    rec = _reconciler(c)
    source = rec.settings.sources[0]
    try:
        first = rec.reconcile(source)
        assert first.ok, first.message
        binding_uid = c.client.get(ADM, "ValidatingAdmissionPolicyBinding", name)["metadata"]["uid"]  # type: ignore[index]
        # the operator's policy judges real writes only, so the revision passes preflight and fails midway
        c.client.create({"apiVersion": ADM, "kind": "ValidatingAdmissionPolicy", "metadata": {"name": operators},
                         "spec": {"failurePolicy": "Fail", "matchConstraints": {"resourceRules": [{
                             "apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"],
                             "resources": ["configmaps"]}]},
                             "validations": [{"expression": "request.dryRun == true || !object.metadata.name.startsWith('b')"
                                              " || object.data.rev != '2'", "message": "b at rev 2 is refused"}]}})
        c.client.create({"apiVersion": ADM, "kind": "ValidatingAdmissionPolicyBinding",
                         "metadata": {"name": operators},
                         "spec": {"policyName": operators, "validationActions": ["Deny"], "matchResources": {
                             "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": c.target_ns}}}}})
        probe = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "b-probe", "namespace": c.target_ns},
                 "data": {"rev": "2"}}
        while True:  # until the API server enforces it on real writes (asserts no timing)
            try:
                c.client.apply(probe)
            except KubeError:
                break
            c.client.delete("v1", "ConfigMap", "b-probe", c.target_ns)
        c.repo.commit({"app/policy.yaml": None, "app/a.yaml": CM.format(name="a", rev=2),
                       "app/b.yaml": CM.format(name="b", rev=2)}, "rev 2: drop the policy, both at rev 2")
        failed = rec.reconcile(source)
        assert failed.result == FAILED and "b at rev 2 is refused" in failed.message, failed.message
        assert _message(c, name) == "one", "the policy the rejected revision removed was not put back"
        binding = c.client.get(ADM, "ValidatingAdmissionPolicyBinding", name)
        assert binding is not None and binding["metadata"]["uid"] != binding_uid  # deleted first, re-created
        assert (c.get("v1", "ConfigMap", "a") or {}).get("data", {}).get("rev") == "1"
    finally:
        _cleanup(c, name, operators)


def test_after_a_kill_between_the_early_deletion_and_the_rest_a_rejected_revision_puts_it_back(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    c = new_cluster(apiserver, git_server, tmp_path, {"app/cm.yaml": CM.format(name="app", rev=1)})
    name = f"own-{c.target_ns}"
    c.repo.commit({"app/policy.yaml": _policy(name, c.target_ns, "one")}, "rev 1: a policy of its own")
    rec = _reconciler(c)
    source = rec.settings.sources[0]
    try:
        first = rec.reconcile(source)
        assert first.ok, first.message
        listed = inventory.read(c.client, c.control_ns, source.name)
        assert listed is not None
        second = c.repo.commit({"app/policy.yaml": None}, "rev 2: drop the policy")
        # what a pass of rev 2 killed right after deleting the policy leaves: the inventory marked pending
        # (written before the deletion) and the policy gone
        inventory.write(c.client, c.control_ns, source.name, inventory.Inventory(
            listed.revision, listed.objects, pending=second, base=listed.objects))
        for kind in ("ValidatingAdmissionPolicyBinding", "ValidatingAdmissionPolicy"):
            c.client.delete(ADM, kind, name)
        c.repo.commit({"app/web.yaml": _bad_deployment()}, "rev 3: rejected")
        restarted = _reconciler(c).reconcile(source)
        assert restarted.result == FAILED and "Deployment" in restarted.message, restarted.message
        assert _message(c, name) == "one", "the policy a killed pass deleted early was not put back"
        assert c.client.get(ADM, "ValidatingAdmissionPolicyBinding", name) is not None
        after = inventory.read(c.client, c.control_ns, source.name)
        assert after is not None and not after.pending and after.revision == first.applied_revision
    finally:
        _cleanup(c, name)
