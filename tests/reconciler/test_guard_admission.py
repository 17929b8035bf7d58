"""No source's webhook or admission policy may intercept the reconciler's own writes (issue 14, atk14d D5):
a ValidatingWebhookConfiguration, MutatingWebhookConfiguration, ValidatingAdmissionPolicy(+Binding) or
MutatingAdmissionPolicy(+Binding) is applied only when the operator's grant names its kind (a glob is not
enough) and each of its match blocks excludes the reconciler's namespace by name and leaves ``Source``
objects alone. Units, then a real kube-apiserver + etcd and git server."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest

from handoff.reconciler.config import Authority, Settings, Source
from handoff.reconciler.guard import why_intercepting
from handoff.reconciler.loop import Reconciler
from handoff.reconciler.status import REFUSED, SUCCEEDED

from .cluster import new_cluster

NS = "handoff-system"
SETTINGS = Settings(sources=(Source(name="a", url="https://git.example/x.git"),), namespace=NS)
ADMISSION = "admissionregistration.k8s.io/v1"
EXCLUDED = {"matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "NotIn",
                                  "values": ["kube-system", NS]}]}
CONFIGMAPS = {"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"],
              "resources": ["configmaps"]}


def _webhooks(kind: str, selector: dict[str, Any] | None, rules: list[dict[str, Any]]) -> dict[str, Any]:
    hook: dict[str, Any] = {"name": "check.example.com", "rules": rules}
    if selector is not None:
        hook["namespaceSelector"] = selector
    return {"apiVersion": ADMISSION, "kind": kind, "metadata": {"name": "hook"}, "webhooks": [hook]}


def _policy(kind: str, selector: dict[str, Any] | None) -> dict[str, Any]:
    key = "matchResources" if kind.endswith("Binding") else "matchConstraints"
    block: dict[str, Any] = {"resourceRules": [CONFIGMAPS]}
    if selector is not None:
        block["namespaceSelector"] = selector
    return {"apiVersion": ADMISSION, "kind": kind, "metadata": {"name": "p"}, "spec": {key: block}}


ALL_KINDS = ["ValidatingWebhookConfiguration", "MutatingWebhookConfiguration", "ValidatingAdmissionPolicy",
             "ValidatingAdmissionPolicyBinding", "MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding"]


def _obj(kind: str, selector: dict[str, Any] | None, rules: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    if "Webhook" in kind:
        return _webhooks(kind, selector, rules if rules is not None else [CONFIGMAPS])
    return _policy(kind, selector)


@pytest.mark.parametrize("kind", ALL_KINDS)
@pytest.mark.parametrize("selector", [None, {}, {"matchLabels": {"kubernetes.io/metadata.name": NS}},
                                      {"matchExpressions": [{"key": "kubernetes.io/metadata.name",
                                                             "operator": "NotIn", "values": ["other"]}]},
                                      {"matchExpressions": [{"key": "team", "operator": "NotIn",
                                                             "values": [NS]}]}])
def test_one_that_can_match_the_reconcilers_namespace_is_refused(kind: str, selector: Any) -> None:
    why = why_intercepting(_obj(kind, selector), SETTINGS, (kind,))
    assert "intercept the reconciler's own writes" in why and NS in why


@pytest.mark.parametrize("kind", ALL_KINDS)
@pytest.mark.parametrize("selector", [EXCLUDED, {"matchLabels": {"kubernetes.io/metadata.name": "team-a"}},
                                      {"matchExpressions": [{"key": "kubernetes.io/metadata.name",
                                                             "operator": "In", "values": ["team-a"]}]}])
def test_one_named_in_the_grant_that_excludes_the_namespace_is_allowed(kind: str, selector: Any) -> None:
    assert why_intercepting(_obj(kind, selector), SETTINGS, (f"admissionregistration.k8s.io/{kind}",)) == ""


@pytest.mark.parametrize("kind", ALL_KINDS)
@pytest.mark.parametrize("pattern", ["*", "*WebhookConfiguration", "admissionregistration.k8s.io/*"])
def test_a_glob_never_grants_them(kind: str, pattern: str) -> None:
    why = why_intercepting(_obj(kind, EXCLUDED), SETTINGS, (pattern,))
    assert ("a glob grants" in why) == (pattern != "*WebhookConfiguration" or "Webhook" in kind)


def test_not_granted_is_left_to_the_grant() -> None:
    assert why_intercepting(_obj("MutatingWebhookConfiguration", None), SETTINGS, ("ClusterRole",)) == ""


@pytest.mark.parametrize("resources", [["sources"], ["sources/status"], ["*"], ["*/*"]])
@pytest.mark.parametrize("group", ["handoff.dev", "*"])
def test_a_webhook_on_source_objects_is_refused_though_it_excludes_the_namespace(group: str,
                                                                                 resources: list[str]) -> None:
    rules = [{"apiGroups": [group], "apiVersions": ["*"], "operations": ["UPDATE"], "resources": resources}]
    why = why_intercepting(_webhooks("ValidatingWebhookConfiguration", EXCLUDED, rules), SETTINGS,
                           ("ValidatingWebhookConfiguration",))
    assert "Source objects" in why


CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: app}}\ndata: {{rev: \"{rev}\"}}\n"


def _hook_yaml(name: str, selector: str) -> str:
    return f"""apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata: {{name: {name}}}
webhooks:
  - name: mutate.{name}.example.com
    admissionReviewVersions: [v1]
    sideEffects: None
    failurePolicy: Ignore
    clientConfig: {{url: "https://127.0.0.1:1/mutate"}}
    namespaceSelector: {selector}
    rules: [{{apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [configmaps]}}]
"""
# on configmaps: one mutating Secrets is refused whatever its selector (guard.why_mutating_identity)


@pytest.mark.tools
@pytest.mark.slow
def test_the_reconciler_refuses_an_intercepting_webhook_and_applies_an_excluding_one(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    c = new_cluster(apiserver, git_server, tmp_path, {"app/cm.yaml": CM.format(rev=1)})
    name = f"hook-{c.control_ns}"
    # a cluster-wide grant: a webhook of a namespace-confined one must also be confined to its namespaces
    # (test_guard_admission_reach.py)
    settings = c.settings(renderer="plain", authority=Authority(
        namespaces=("*",), cluster_kinds=("MutatingWebhookConfiguration",)))
    rec = Reconciler(settings, c.client, c.workdir)
    source = settings.sources[0]
    try:
        assert rec.reconcile(source).ok
        c.repo.commit({"app/hook.yaml": _hook_yaml(name, "{}"), "app/cm.yaml": CM.format(rev=2)}, "all namespaces")
        refused = rec.reconcile(source)
        assert refused.result == REFUSED and "intercept the reconciler's own writes" in refused.message
        assert c.client.get(ADMISSION, "MutatingWebhookConfiguration", name) is None
        assert (c.get("v1", "ConfigMap", "app") or {}).get("data", {}).get("rev") == "1"
        excluding = ("{matchExpressions: [{key: kubernetes.io/metadata.name, operator: NotIn, "
                     f"values: [{c.control_ns}]}}]}}")
        c.repo.commit({"app/hook.yaml": _hook_yaml(name, excluding)}, "exclude the reconciler's namespace")
        applied = rec.reconcile(source)
        assert applied.result == SUCCEEDED, applied.message
        assert c.client.get(ADMISSION, "MutatingWebhookConfiguration", name) is not None
    finally:
        with contextlib.suppress(Exception):
            c.client.delete(ADMISSION, "MutatingWebhookConfiguration", name)


def test_a_webhook_configuration_without_webhooks_intercepts_nothing() -> None:
    empty = {"apiVersion": ADMISSION, "kind": "ValidatingWebhookConfiguration", "metadata": {"name": "none"}}
    assert why_intercepting(empty, SETTINGS, ("ValidatingWebhookConfiguration",)) == ""
