"""A source's webhook or admission policy may act only where its grant reaches (issue 14, atk14e E2): under a
grant confined to some namespaces, every match block must be confined by name to granted namespaces
(``kubernetes.io/metadata.name In [...]``) and pick namespaced resources only (a namespaceSelector never
skips a cluster-scoped object); only a cluster-wide grant admits a wider one (it must still exclude the
reconciler's namespace, test_guard_admission.py). Units on ``why_intercepting`` with the real grant."""

from __future__ import annotations

from typing import Any

import pytest

from handoff.reconciler.authority import grant_of, namespace_covered
from handoff.reconciler.config import Authority, Settings, Source
from handoff.reconciler.guard import why_intercepting

NS = "handoff-system"
ADMISSION = "admissionregistration.k8s.io/v1"
KINDS = ("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration", "ValidatingAdmissionPolicy",
         "ValidatingAdmissionPolicyBinding", "MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding")
CONFINED = Source(name="a", url="https://git.example/x.git", namespace="team-a",
                  authority=Authority(namespaces=("team-a", "team-a-*"), cluster_kinds=KINDS))
WIDE = Source(name="w", url="https://git.example/x.git", namespace="team-a",
              authority=Authority(namespaces=("*",), cluster_kinds=KINDS))
SETTINGS = Settings(sources=(CONFINED, WIDE), namespace=NS)
CONFIGMAPS = {"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"],
              "resources": ["configmaps"]}


def _names(*names: str) -> dict[str, Any]:
    return {"matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "In", "values": list(names)}]}


def _obj(kind: str, selector: dict[str, Any] | None, rules: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    rules = [CONFIGMAPS] if rules is None else rules
    if "Webhook" in kind:
        hook: dict[str, Any] = {"name": "check.example.com", "rules": rules}
        if selector is not None:
            hook["namespaceSelector"] = selector
        return {"apiVersion": ADMISSION, "kind": kind, "metadata": {"name": "hook"},
                "webhooks": [{"name": "first.example.com", "namespaceSelector": _names("team-a"),
                              "rules": [CONFIGMAPS]}, hook]}
    key = "matchResources" if kind.endswith("Binding") else "matchConstraints"
    block: dict[str, Any] = {"resourceRules": rules} if rules else {}
    if selector is not None:
        block["namespaceSelector"] = selector
    return {"apiVersion": ADMISSION, "kind": kind, "metadata": {"name": "p"}, "spec": {key: block}}


def _why(obj: dict[str, Any], source: Source) -> str:
    return why_intercepting(obj, SETTINGS, KINDS, namespace_covered(grant_of(source, NS), NS))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("selector", [_names("team-a"), _names("team-a", "team-a-db"),
                                      {"matchLabels": {"kubernetes.io/metadata.name": "team-a-web"}}])
def test_one_confined_to_granted_namespaces_is_allowed(kind: str, selector: dict[str, Any]) -> None:
    assert _why(_obj(kind, selector), CONFINED) == ""


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("selector", [_names("team-b"), _names("team-a", "team-b"),
                                      {"matchLabels": {"kubernetes.io/metadata.name": "team-b"}}])
def test_one_naming_an_ungranted_namespace_is_refused_with_the_namespace(kind: str,
                                                                         selector: dict[str, Any]) -> None:
    why = _why(_obj(kind, selector), CONFINED)
    assert "outside its grant" in why and "namespace team-b" in why and "namespaceSelector" in why


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("selector", [{"matchExpressions": [{"key": "kubernetes.io/metadata.name",
                                                             "operator": "NotIn", "values": [NS]}]},
                                      {"matchLabels": {"team": "a"},
                                       "matchExpressions": [{"key": "kubernetes.io/metadata.name",
                                                             "operator": "DoesNotExist"}]}])
def test_one_that_could_match_any_namespace_needs_a_cluster_wide_grant(kind: str,
                                                                       selector: dict[str, Any]) -> None:
    why = _why(_obj(kind, selector), CONFINED)
    assert "could match any namespace" in why and "namespaceSelector" in why
    assert _why(_obj(kind, selector), WIDE) == ""


def test_the_refusal_names_the_webhook_and_its_key() -> None:
    why = _why(_obj("ValidatingWebhookConfiguration", _names("team-b")), CONFINED)
    assert "webhook check.example.com (webhooks[1]) namespaceSelector" in why


@pytest.mark.parametrize("kind", [k for k in KINDS if not k.endswith("Binding")])
@pytest.mark.parametrize("rule", [{"apiGroups": [""], "resources": ["*"]},
                                  {"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["clusterroles"]},
                                  {"apiGroups": ["example.com"], "resources": ["widgets"]}])
def test_rules_that_may_pick_cluster_scoped_objects_are_refused_unless_scope_namespaced(
        kind: str, rule: dict[str, Any]) -> None:
    why = _why(_obj(kind, _names("team-a"), [rule]), CONFINED)
    assert "may be cluster-scoped" in why and "scope: Namespaced" in why
    assert _why(_obj(kind, _names("team-a"), [{**rule, "scope": "Namespaced"}]), CONFINED) == ""


@pytest.mark.parametrize("kind", ["ValidatingAdmissionPolicyBinding", "MutatingAdmissionPolicyBinding"])
def test_a_binding_without_resource_rules_reaches_what_its_policy_does(kind: str) -> None:
    why = _why(_obj(kind, _names("team-a"), []), CONFINED)
    assert "policy it binds" in why


def test_the_default_grant_is_confined_to_the_sources_own_namespace() -> None:
    source = Source(name="d", url="https://git.example/x.git", namespace="team-d")
    covered = namespace_covered(grant_of(source, NS), NS)
    assert covered is not None and covered("team-d") and not covered("team-e")


def test_a_wildcard_grant_with_other_denials_is_not_cluster_wide() -> None:
    source = Source(name="x", url="https://git.example/x.git", namespace="team-a",
                    authority=Authority(namespaces=("*",), denied_namespaces=("kube-system",), cluster_kinds=KINDS))
    covered = namespace_covered(grant_of(source, NS), NS)
    assert covered is not None and covered("team-z") and not covered("kube-system")
