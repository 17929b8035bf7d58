"""atk14f: a revision changes the source's own admission policy into one that refuses the previous
revision's content on real writes (and its own ``b`` at rev 2, so it is rejected midway; preflight dry-runs
pass). ``_admission_first`` applies the changed policy before the rest; when ``b`` is rejected, the roll-back
restores the other objects while the revision's policy is still in force and only then puts the old policy
back, so ``a`` cannot be put back: half-applied ("atomic revisions", issue 14). The previous content was
admitted under the previous policy, so the revision's admission changes must be out of the way (the old
ones back, or the new ones removed) before the rest is restored. Real kube-apiserver + etcd and git server.

The fix: the roll-back takes the revision's admission changes out of the way first (deletes the ones it
created, puts the changed ones back), then restores the rest, trying again a restore that one of them still
refuses while the API server's policy cache lags; the objects it deleted early are re-created last. Below,
the same for an admission policy the revision *creates*, and the preflight of a revision that changes its
own policy, which the replaced version (still enforced for a moment) must not refuse."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Any

import pytest

from handoff.kube.errors import KubeError
from handoff.reconciler import rollback
from handoff.reconciler.config import Authority
from handoff.reconciler.loop import Reconciler
from handoff.report.model import ObjectRef

from .cluster import new_cluster

pytestmark = [pytest.mark.tools, pytest.mark.slow]

ADM = "admissionregistration.k8s.io/v1"
CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}}}\ndata: {{rev: \"{rev}\"}}\n"
KINDS = ("ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding")
PADDING = 300
REF = ObjectRef("v1", "ConfigMap", "a", "team-a")
HARMLESS = "true"
# real writes only: refuses b at rev 2 (the rejection midway) and anything at rev 1 (the roll-back)
REFUSING = ("request.dryRun == true || !((object.metadata.name == 'b' && object.data.rev == '2') || "
            "object.data.rev == '1')")


def _policy(name: str, ns: str, expression: str) -> str:
    selector = f"{{matchExpressions: [{{key: kubernetes.io/metadata.name, operator: In, values: [{ns}]}}]}}"
    rules = ("[{apiGroups: [''], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [configmaps]}, "
             "{apiGroups: [coordination.k8s.io], apiVersions: [v1], operations: [CREATE, UPDATE], "
             "resources: [leases]}]")
    return f"""apiVersion: {ADM}
kind: ValidatingAdmissionPolicy
metadata: {{name: {name}}}
spec:
  failurePolicy: Fail
  matchConstraints: {{namespaceSelector: {selector}, resourceRules: {rules}}}
  validations: [{{expression: "{expression}", message: "refused by the source's own policy"}}]
---
apiVersion: {ADM}
kind: ValidatingAdmissionPolicyBinding
metadata: {{name: {name}}}
spec:
  policyName: {name}
  validationActions: [Deny]
  matchResources: {{namespaceSelector: {selector}, resourceRules: {rules}}}
"""


def test_a_changed_admission_policy_does_not_block_the_roll_back_of_the_rest(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    # padding objects before a and b in file order, changed by rev 2 too: their writes give the API server
    # time to put the changed policy in force before a and b are written (else the test skips)
    padding = {f"app/0-pad-{i:03}.yaml": CM.format(name=f"pad-{i:03}", rev="pad") for i in range(PADDING)}
    c = new_cluster(apiserver, git_server, tmp_path, {"app/a.yaml": CM.format(name="a", rev=1),
                                                      "app/b.yaml": CM.format(name="b", rev=1), **padding})
    name = f"own-{c.target_ns}"
    c.repo.commit({"app/policy.yaml": _policy(name, c.target_ns, HARMLESS)}, "rev 1: a harmless policy")
    rec = Reconciler(c.settings(renderer="plain", authority=Authority(
        namespaces=(c.target_ns,), cluster_kinds=KINDS)), c.client, c.workdir)
    source = rec.settings.sources[0]
    try:
        first = rec.reconcile(source)
        assert first.ok, first.message
        c.repo.commit({"app/policy.yaml": _policy(name, c.target_ns, REFUSING),
                       "app/a.yaml": CM.format(name="a", rev=2), "app/b.yaml": CM.format(name="b", rev=2),
                       **{k: CM.format(name=f"pad-{i:03}", rev="pad2") for i, k in enumerate(padding)}},
                      "rev 2: the policy refuses rev 1 and b at rev 2")
        failed = rec.reconcile(source)
        a = (c.get("v1", "ConfigMap", "a") or {}).get("data", {}).get("rev")
        if failed.ok:
            pytest.skip("the changed policy was not in force yet when b was written (nothing to roll back)")
        assert a == "1" and "roll-back incomplete" not in failed.message, (
            "a revision rejected midway was left half-applied: the roll-back restored ConfigMap a while the "
            f"revision's own changed policy was still in force (a at rev {a}); {failed.message[:500]}")
    finally:
        for kind in KINDS:
            with contextlib.suppress(KubeError):
                c.client.delete(ADM, kind, name)


LEASE = "apiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata: {{name: {name}}}\nspec: {{holderIdentity: {rev}}}\n"
# real writes only: refuses the Lease z-last (the rejection midway, after the new policy) and ConfigMaps at
# rev 1 (the roll-back of a)
REFUSING_NEW = ("request.dryRun == true || !(object.metadata.name == 'z-last' || "
                "(has(object.data) && object.data.rev == '1'))")


def test_an_admission_policy_the_revision_creates_does_not_block_the_roll_back_of_the_rest(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    # a ConfigMap (applied before the policy: config ranks first), then the new policy and Leases after it
    # in file order, so it is in force when z-last is written (else the test skips)
    c = new_cluster(apiserver, git_server, tmp_path, {"app/a.yaml": CM.format(name="a", rev=1)})
    name = f"new-{c.target_ns}"
    rec = Reconciler(c.settings(renderer="plain", authority=Authority(
        namespaces=(c.target_ns,), cluster_kinds=KINDS)), c.client, c.workdir)
    source = rec.settings.sources[0]
    try:
        first = rec.reconcile(source)
        assert first.ok, first.message
        padding = {f"app/l-{i:03}.yaml": LEASE.format(name=f"l-{i:03}", rev="pad") for i in range(PADDING)}
        c.repo.commit({"app/a.yaml": CM.format(name="a", rev=2), "app/k-policy.yaml": _policy(
            name, c.target_ns, REFUSING_NEW), **padding, "app/z-last.yaml": LEASE.format(name="z-last", rev=2)},
            "rev 2: a new policy refusing rev 1 and z-last")
        failed = rec.reconcile(source)
        if failed.ok:
            pytest.skip("the new policy was not in force yet when z-last was written (nothing to roll back)")
        a = (c.get("v1", "ConfigMap", "a") or {}).get("data", {}).get("rev")
        assert a == "1" and "roll-back incomplete" not in failed.message, (
            f"the roll-back of a was refused by the policy the revision created (a at rev {a}); "
            f"{failed.message[:500]}")
        assert c.client.get(ADM, "ValidatingAdmissionPolicy", name) is None
        assert c.get("coordination.k8s.io/v1", "Lease", "l-000") is None
    finally:
        for kind in KINDS:
            with contextlib.suppress(KubeError):
                c.client.delete(ADM, kind, name)


# refuses ConfigMaps at rev 2, dry-runs too (so the preflight): the version rev 2 replaces
FAILS_CLOSED_ON_REV_2 = "!(has(object.data) && object.data.rev == '2')"


def test_the_preflight_is_not_refused_by_the_version_of_its_own_policy_the_revision_replaces(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    c = new_cluster(apiserver, git_server, tmp_path, {"app/a.yaml": CM.format(name="a", rev=1)})
    name = f"own-{c.target_ns}"
    c.repo.commit({"app/policy.yaml": _policy(name, c.target_ns, FAILS_CLOSED_ON_REV_2)}, "rev 1: its policy")
    rec = Reconciler(c.settings(renderer="plain", authority=Authority(
        namespaces=(c.target_ns,), cluster_kinds=KINDS)), c.client, c.workdir)
    source = rec.settings.sources[0]
    try:
        first = rec.reconcile(source)
        assert first.ok, first.message
        c.repo.commit({"app/policy.yaml": _policy(name, c.target_ns, HARMLESS),
                       "app/a.yaml": CM.format(name="a", rev=2)}, "rev 2: the policy allows rev 2, a at rev 2")
        applied = rec.reconcile(source)
        assert applied.ok, (
            "the revision that changes the source's own policy was refused by the version it replaces (the "
            f"API server enforces it a moment longer): {applied.message[:500]}")
        assert (c.get("v1", "ConfigMap", "a") or {}).get("data", {}).get("rev") == "2"
    finally:
        for kind in KINDS:
            with contextlib.suppress(KubeError):
                c.client.delete(ADM, kind, name)


def test_a_denial_is_told_by_the_admission_objects_it_names() -> None:
    hooks = {"metadata": {"name": "hooks"}, "webhooks": [{"name": "deny.example.com"}, {"name": "other.example.com"}]}
    names = rollback.admission_names([hooks, {"metadata": {"name": "own-p"}}, None])
    assert names == {"hooks", "deny.example.com", "other.example.com", "own-p"}
    assert rollback.refused_by("configmaps \"a\" is forbidden: ValidatingAdmissionPolicy 'own-p' with binding "
                               "'own-p' denied request: refused", names)
    assert rollback.refused_by('admission webhook "deny.example.com" denied the request: no', names)
    assert not rollback.refused_by("ValidatingAdmissionPolicy 'operator' denied request", names)


def test_a_step_is_tried_again_only_while_a_lagging_admission_object_refuses_it() -> None:
    answers = [rollback.Problem(REF, "ValidatingAdmissionPolicy 'own-p' denied request"),
               rollback.Problem(REF, "ValidatingAdmissionPolicy 'own-p' denied request"), None]
    far = time.monotonic() + 600
    assert rollback.past_lag(REF, lambda: answers.pop(0), {"own-p"}, far) is None and answers == []
    quota = rollback.Problem(REF, "quota exceeded")
    other = [quota, None]
    assert rollback.past_lag(REF, lambda: other.pop(0), {"own-p"}, far) == quota
    late = [rollback.Problem(REF, "'own-p' denied"), None]
    assert rollback.past_lag(REF, lambda: late.pop(0), {"own-p"}, time.monotonic() - 1) is not None


def _webhook(name: str, ns: str, failure_policy: str) -> str:
    return f"""apiVersion: {ADM}
kind: ValidatingWebhookConfiguration
metadata: {{name: {name}}}
webhooks:
  - name: {name}.example.com
    admissionReviewVersions: [v1]
    sideEffects: None
    failurePolicy: {failure_policy}
    clientConfig: {{url: "https://127.0.0.1:1/validate"}}
    namespaceSelector: {{matchExpressions: [{{key: kubernetes.io/metadata.name, operator: In, values: [{ns}]}}]}}
    rules: [{{apiGroups: [""], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [configmaps]}}]
"""


def _operator_policy(c: Any, name: str) -> None:
    """The operator's own policy (not the source's): refuses ConfigMap b (and the probe) at rev 2 on real
    writes only; in force once it refuses the probe."""
    match = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": c.target_ns}},
             "resourceRules": [{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"],
                                "resources": ["configmaps"]}]}
    expression = ("request.dryRun == true || !(object.data.rev == '2' && "
                  "(object.metadata.name == 'b' || object.metadata.name == 'probe'))")
    c.client.apply({"apiVersion": ADM, "kind": "ValidatingAdmissionPolicy", "metadata": {"name": name},
                    "spec": {"failurePolicy": "Fail", "matchConstraints": match,
                             "validations": [{"expression": expression, "message": "refused by the operator"}]}})
    c.client.apply({"apiVersion": ADM, "kind": "ValidatingAdmissionPolicyBinding", "metadata": {"name": name},
                    "spec": {"policyName": name, "validationActions": ["Deny"], "matchResources": match}})
    probe = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "probe", "namespace": c.target_ns},
             "data": {"rev": "2"}}
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            c.client.apply(probe)
        except KubeError:
            return
        c.client.delete("v1", "ConfigMap", "probe", c.target_ns)
        time.sleep(0.2)
    pytest.fail("the operator's policy never came in force")


WEBHOOK_KINDS = (*KINDS, "ValidatingWebhookConfiguration")


def test_a_previous_webhook_that_fails_closed_on_the_previous_content_is_re_created_after_the_rest(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    # rev 1's own webhook fails closed (its server is gone) on every ConfigMap write once in force; rev 2 fixes
    # it (failurePolicy Ignore) and changes a, b and the padding; b is refused by the operator's policy, so
    # the roll-back puts the dead webhook back first, which then refuses the previous content itself
    padding = {f"app/0-pad-{i:03}.yaml": CM.format(name=f"pad-{i:03}", rev="pad") for i in range(PADDING)}
    c = new_cluster(apiserver, git_server, tmp_path, {"app/a.yaml": CM.format(name="a", rev=1),
                                                      "app/b.yaml": CM.format(name="b", rev=1), **padding})
    name, operator = f"dead-{c.target_ns}", f"op-{c.target_ns}"
    rec = Reconciler(c.settings(renderer="plain", authority=Authority(
        namespaces=(c.target_ns,), cluster_kinds=WEBHOOK_KINDS)), c.client, c.workdir)
    source = rec.settings.sources[0]
    try:
        _operator_policy(c, operator)
        c.repo.commit({"app/webhook.yaml": _webhook(name, c.target_ns, "Fail")}, "rev 1: its webhook")
        first = rec.reconcile(source)
        assert first.ok, first.message
        c.repo.commit({"app/webhook.yaml": _webhook(name, c.target_ns, "Ignore"),
                       "app/a.yaml": CM.format(name="a", rev=2), "app/b.yaml": CM.format(name="b", rev=2),
                       **{k: CM.format(name=f"pad-{i:03}", rev="pad2") for i, k in enumerate(padding)}},
                      "rev 2: the webhook fixed; b refused by the operator")
        failed = rec.reconcile(source)
        assert not failed.ok and "b rejected by the API server" in failed.message, failed.message[:500]
        assert "roll-back incomplete" not in failed.message, failed.message[:500]
        revs = {n: (c.get("v1", "ConfigMap", n) or {}).get("data", {}).get("rev")
                for n in ("a", "b", "pad-000", f"pad-{PADDING - 1:03}")}
        assert revs == {"a": "1", "b": "1", "pad-000": "pad", f"pad-{PADDING - 1:03}": "pad"}, revs
        webhook = c.client.get(ADM, "ValidatingWebhookConfiguration", name) or {}
        assert [w.get("failurePolicy") for w in webhook.get("webhooks", ())] == ["Fail"]
    finally:
        with contextlib.suppress(KubeError):
            c.client.delete(ADM, "ValidatingWebhookConfiguration", name)
        for kind in KINDS:
            with contextlib.suppress(KubeError):
                c.client.delete(ADM, kind, operator)
