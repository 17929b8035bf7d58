"""atk14i: a source granted ``ValidatingAdmissionPolicyBinding`` (cluster-scoped, by name) applies a binding
whose *name* is the operator's existing binding of a cluster-wide policy. Its content passes
``why_intercepting`` (confined by ``kubernetes.io/metadata.name In [its namespace]``, excludes the reconciler's
namespace, ``scope: Namespaced`` rules), so the reconciler adopts the operator's object with a forced
server-side apply: the operator's binding, which enforced the policy in another namespace (another team's),
now enforces it only in the source's own namespace. The other namespace lost the operator's protection; a
write the operator's policy denied there is admitted. When the repo then drops the binding, prune deletes
the operator's object outright (it is in the source's inventory since the adoption).

Observed (real kube-apiserver + etcd, ``Reconciler.reconcile``): the revision SUCCEEDED, the live binding's
namespaceSelector is the repo's, a ConfigMap the operator's policy denies in the victim namespace is
created, and the next revision (binding removed) deletes the operator's binding.

Responsible: ``handoff/reconciler/guard.py`` (``why_intercepting`` judges only the repo's content, never
what object it takes over) with ``handoff/reconciler/loop.py`` / ``apply.py`` (adoption of a pre-existing
cluster-scoped admission object no source created). What should hold: a source's admission object may not
reach beyond its grant, and "never more authority than the operator grants" — taking over (narrowing,
then deleting) an admission object that guards namespaces outside the grant is exactly that; a
pre-existing cluster-scoped admission object the source did not create must be refused (or its live
content judged too), and never pruned."""

from __future__ import annotations

import contextlib
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from handoff.kube.client import KubeError
from handoff.reconciler.config import Authority
from handoff.reconciler.loop import Reconciler
from handoff.reconciler.status import SUCCEEDED

from .cluster import new_cluster

ADM = "admissionregistration.k8s.io/v1"
CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: app}}\ndata: {{rev: \"{rev}\"}}\n"


def _binding(name: str, ns: str) -> dict[str, Any]:
    return {"apiVersion": ADM, "kind": "ValidatingAdmissionPolicyBinding", "metadata": {"name": name},
            "spec": {"policyName": name, "validationActions": ["Deny"],
                     "matchResources": {
                         "namespaceSelector": {"matchExpressions": [
                             {"key": "kubernetes.io/metadata.name", "operator": "In", "values": [ns]}]},
                         "resourceRules": [{"apiGroups": [""], "apiVersions": ["v1"],
                                            "operations": ["CREATE", "UPDATE"], "resources": ["configmaps"],
                                            "scope": "Namespaced"}]}}}


def _binding_yaml(name: str, ns: str) -> str:
    return f"""apiVersion: {ADM}
kind: ValidatingAdmissionPolicyBinding
metadata: {{name: {name}}}
spec:
  policyName: {name}
  validationActions: [Deny]
  matchResources:
    namespaceSelector: {{matchExpressions: [{{key: kubernetes.io/metadata.name, operator: In, values: [{ns}]}}]}}
    resourceRules: [{{apiGroups: [""], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [configmaps],
                      scope: Namespaced}}]
"""


def _denied(c: Any, ns: str) -> bool:
    """Whether a ConfigMap labelled forbidden=yes is denied in ``ns`` (server-side dry-run)."""
    cm = {"apiVersion": "v1", "kind": "ConfigMap",
          "metadata": {"name": f"probe-{uuid.uuid4().hex[:5]}", "namespace": ns, "labels": {"forbidden": "yes"}}}
    try:
        c.client.apply(cm, dry_run=True)
    except KubeError:
        return True
    return False


def _eventually(predicate: Any, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.3)
    return predicate()


@pytest.mark.tools
@pytest.mark.slow
def test_a_source_cannot_take_over_the_operators_admission_binding_guarding_another_namespace(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    c = new_cluster(apiserver, git_server, tmp_path, {"app/cm.yaml": CM.format(rev=1)})
    uid = uuid.uuid4().hex[:6]
    victim, name = f"victim-{uid}", f"op-deny-{uid}"
    c.client.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": victim}})
    # the operator's own policy and binding (not in any repo): deny forbidden ConfigMaps in the victim namespace
    c.client.apply({"apiVersion": ADM, "kind": "ValidatingAdmissionPolicy", "metadata": {"name": name},
                    "spec": {"failurePolicy": "Fail",
                             "matchConstraints": {"resourceRules": [
                                 {"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"],
                                  "resources": ["configmaps"]}]},
                             "validations": [{"expression":
                                              "!has(object.metadata.labels) || "
                                              "!('forbidden' in object.metadata.labels)"}]}},
                   manager="operator")
    c.client.apply(_binding(name, victim), manager="operator")
    grant = Authority(namespaces=(c.target_ns,), cluster_kinds=("ValidatingAdmissionPolicyBinding",))
    rec = Reconciler(c.settings(renderer="plain", authority=grant), c.client, c.workdir)
    try:
        assert _eventually(lambda: _denied(c, victim)), "set-up: the operator's policy is not enforced"
        assert rec.reconcile(rec.settings.sources[0]).ok
        c.repo.commit({"app/binding.yaml": _binding_yaml(name, c.target_ns), "app/cm.yaml": CM.format(rev=2)},
                      "a binding named as the operator's")
        result = rec.reconcile(rec.settings.sources[0])
        live = c.client.get(ADM, "ValidatingAdmissionPolicyBinding", name) or {}
        selector = (live.get("spec") or {}).get("matchResources", {}).get("namespaceSelector")
        assert result.result != SUCCEEDED, (
            f"the source took over the operator's ValidatingAdmissionPolicyBinding {name}: its namespaceSelector "
            f"is now {selector} (was the victim namespace {victim}); revision message: {result.message}")
    finally:
        with contextlib.suppress(Exception):
            c.client.delete(ADM, "ValidatingAdmissionPolicyBinding", name)
        with contextlib.suppress(Exception):
            c.client.delete(ADM, "ValidatingAdmissionPolicy", name)


@pytest.mark.tools
@pytest.mark.slow
def test_taking_over_the_operators_binding_lifts_its_protection_and_prune_deletes_it(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    """The consequences, measured: the victim namespace admits what the operator's policy denied, and the
    operator's binding is deleted when the repo drops it."""
    c = new_cluster(apiserver, git_server, tmp_path, {"app/cm.yaml": CM.format(rev=1)})
    uid = uuid.uuid4().hex[:6]
    victim, name = f"victim-{uid}", f"op-deny-{uid}"
    c.client.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": victim}})
    c.client.apply({"apiVersion": ADM, "kind": "ValidatingAdmissionPolicy", "metadata": {"name": name},
                    "spec": {"failurePolicy": "Fail",
                             "matchConstraints": {"resourceRules": [
                                 {"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"],
                                  "resources": ["configmaps"]}]},
                             "validations": [{"expression":
                                              "!has(object.metadata.labels) || "
                                              "!('forbidden' in object.metadata.labels)"}]}},
                   manager="operator")
    c.client.apply(_binding(name, victim), manager="operator")
    grant = Authority(namespaces=(c.target_ns,), cluster_kinds=("ValidatingAdmissionPolicyBinding",))
    rec = Reconciler(c.settings(renderer="plain", authority=grant), c.client, c.workdir)
    try:
        assert _eventually(lambda: _denied(c, victim)), "set-up: the operator's policy is not enforced"
        assert rec.reconcile(rec.settings.sources[0]).ok
        c.repo.commit({"app/binding.yaml": _binding_yaml(name, c.target_ns), "app/cm.yaml": CM.format(rev=2)},
                      "a binding named as the operator's")
        rec.reconcile(rec.settings.sources[0])
        lifted = _eventually(lambda: not _denied(c, victim))
        c.repo.commit({"app/binding.yaml": None, "app/cm.yaml": CM.format(rev=3)}, "drop the binding")
        rec.reconcile(rec.settings.sources[0])
        gone = c.client.get(ADM, "ValidatingAdmissionPolicyBinding", name) is None
        assert not lifted and not gone, (
            f"after the source applied a binding named as the operator's: the victim namespace {victim} "
            f"{'admits' if lifted else 'still denies'} what the operator's policy denies there, and dropping it "
            f"from the repo {'deleted' if gone else 'kept'} the operator's ValidatingAdmissionPolicyBinding")
    finally:
        with contextlib.suppress(Exception):
            c.client.delete(ADM, "ValidatingAdmissionPolicyBinding", name)
        with contextlib.suppress(Exception):
            c.client.delete(ADM, "ValidatingAdmissionPolicy", name)
