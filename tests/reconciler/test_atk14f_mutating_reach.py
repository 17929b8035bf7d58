"""atk14f: a source's own mutating admission object, confined to its own granted namespace (so
``why_intercepting`` admits it), rewrites the pods of that namespace after every check of the revision ran:
it can add a volume reading the Source's git-credentials Secret (the reconciler's own, which no pod of the
repo may read: ``why_borrowing``) or make a container privileged (the floor's baseline). Either gives the
source more than the operator granted ("never more authority than the operator grants", issue 14). Units on
``borrowing_identity`` with the real grant, as tests/reconciler/test_guard_admission_reach.py; the API
server of the harness (1.35) does not serve MutatingAdmissionPolicy (beta, off by default), so this is not
run live.

The fix (the lead's design): a granted Mutating* object whose rules can pick pods or anything carrying a pod
spec (a built-in workload, a custom resource, a wildcard) is refused, unless the operator's grant says
``allowMutatingPods: true``; one on other resources only stays allowed. The units below, then a live
MutatingWebhookConfiguration through the loop (real kube-apiserver + etcd and git server)."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest

from handoff.reconciler.authority import grant_of, namespace_covered
from handoff.reconciler.config import Authority, Settings, Source, load_settings
from handoff.reconciler.guard import borrowing_identity, configuration_secrets, why_mutating_pods
from handoff.reconciler.loop import Reconciler
from handoff.reconciler.status import REFUSED, SUCCEEDED
from handoff.reconciler.tenancy import authority_for, parse_tenants

from .cluster import new_cluster

NS = "handoff-system"
ADMISSION = "admissionregistration.k8s.io/v1beta1"
KINDS = ("MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding", "MutatingWebhookConfiguration")
# a tenant source: its Source object lives in team-a, with its git credentials there too
TENANT = Source(name="a", url="https://git.example/x.git", namespace="team-a", secrets=("team-a/git-creds",),
                authority=Authority(namespaces=("team-a",), cluster_kinds=KINDS))
SETTINGS = Settings(sources=(TENANT,), namespace=NS)
CONFINED = {"matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "In", "values": ["team-a"]},
                                 {"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": [NS]}]}
PODS = [{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE"], "resources": ["pods"]}]

READ_CREDENTIALS = """Object{spec: Object.spec{volumes: [Object.spec.volumes{name: "c",
  secret: Object.spec.volumes.secret{secretName: "git-creds"}}]}}"""
PRIVILEGED = """Object{spec: Object.spec{containers: [Object.spec.containers{name: "main",
  securityContext: Object.spec.containers.securityContext{privileged: true}}]}}"""


def _policy(expression: str, rules: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    match = {"namespaceSelector": CONFINED, "resourceRules": PODS if rules is None else rules}
    return [{"apiVersion": ADMISSION, "kind": "MutatingAdmissionPolicy", "metadata": {"name": "inject"},
             "spec": {"failurePolicy": "Ignore", "reinvocationPolicy": "Never", "matchConstraints": match,
                      "mutations": [{"patchType": "ApplyConfiguration",
                                     "applyConfiguration": {"expression": expression}}]}},
            {"apiVersion": ADMISSION, "kind": "MutatingAdmissionPolicyBinding", "metadata": {"name": "inject"},
             "spec": {"policyName": "inject", "matchResources": match}}]


def _webhook(rules: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    # its server (the repo's own Deployment) answers with any JSON patch
    return {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfiguration",
            "metadata": {"name": "inject"},
            "webhooks": [{"name": "inject.team-a.example.com", "namespaceSelector": CONFINED,
                          "rules": PODS if rules is None else rules,
                          "admissionReviewVersions": ["v1"], "sideEffects": "None", "failurePolicy": "Ignore",
                          "clientConfig": {"service": {"namespace": "team-a", "name": "injector"}}}]}


def _refused(objects: list[dict[str, Any]]) -> list[Any]:
    return borrowing_identity(objects, SETTINGS, configuration_secrets(SETTINGS.sources), KINDS,
                              namespace_covered(grant_of(TENANT, NS), NS))


@pytest.mark.parametrize(("what", "expression"), [("reads the Source's git credentials", READ_CREDENTIALS),
                                                  ("makes a container privileged", PRIVILEGED)])
def test_a_mutating_policy_rewriting_the_sources_own_pods_is_refused(what: str, expression: str) -> None:
    assert _refused(_policy(expression)), (
        f"a MutatingAdmissionPolicy confined to the source's namespace whose mutation {what} was admitted: it "
        "rewrites pods after the identity guard and the floor judged them, so the source gets what neither "
        "allows (refuse Mutating* admission objects whose rules pick pods or pod-bearing workloads, or check "
        "their mutations like the objects they produce)")


def test_a_mutating_webhook_on_the_sources_own_pods_is_refused() -> None:
    assert _refused([_webhook()]), (
        "a MutatingWebhookConfiguration on pods, confined to the source's namespace and served by the repo's "
        "own Deployment, was admitted: its server can patch any pod (privileged, the Source's git-credentials "
        "Secret mounted) after the floor and the identity guard ran")


def _rule(group: str, resource: str) -> list[dict[str, Any]]:
    return [{"apiGroups": [group], "apiVersions": ["*"], "operations": ["CREATE", "UPDATE"],
             "resources": [resource], "scope": "Namespaced"}]


POD_BEARING = [("", "pods/ephemeralcontainers"), ("", "pods/*"), ("", "podtemplates"),
               ("", "replicationcontrollers"), ("apps", "deployments"), ("apps", "statefulsets"),
               ("apps", "daemonsets"), ("apps", "replicasets"), ("batch", "jobs"), ("batch", "cronjobs"),
               ("", "*"), ("*", "configmaps"), ("apps", "*/scale"), ("example.com", "runners")]


def _mutating(kind: str, rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [_webhook(rules)] if kind == "MutatingWebhookConfiguration" else _policy(PRIVILEGED, rules)


@pytest.mark.parametrize("kind", ["MutatingWebhookConfiguration", "MutatingAdmissionPolicy"])
@pytest.mark.parametrize(("group", "resource"), POD_BEARING)
def test_one_whose_rules_reach_a_pod_bearing_resource_is_refused_naming_the_rule(
        kind: str, group: str, resource: str) -> None:
    refused = _refused(_mutating(kind, _rule(group, resource)))
    key = "webhooks[0].rules[0]" if kind == "MutatingWebhookConfiguration" else \
        "spec.matchConstraints.resourceRules[0]"
    assert [(r.kind, r.name) for r, _ in refused] == [(kind, "inject")]
    assert f"its {key} picks" in refused[0][1] and resource in refused[0][1]
    # a rule that can also pick bindings, Secrets, ServiceAccounts or Namespaces (``""/*``) is refused for
    # that, which no grant waives (atk14h); every other one names the opt-in
    waivable = group not in ("", "*") or resource.split("/", maxsplit=1)[0] != "*"
    assert ("allowMutatingPods" in refused[0][1]) == waivable, refused[0][1]


@pytest.mark.parametrize("kind", ["MutatingWebhookConfiguration", "MutatingAdmissionPolicy"])
@pytest.mark.parametrize(("group", "resource"), [("", "configmaps"), ("networking.k8s.io", "ingresses"),
                                                 ("policy", "poddisruptionbudgets")])
def test_one_whose_rules_reach_only_other_resources_stays_allowed(kind: str, group: str, resource: str) -> None:
    assert _refused(_mutating(kind, _rule(group, resource))) == []


# what the identity guard judges by content: a mutation after it judged them would turn a RoleBinding's
# roleRef to the reconciler's ClusterRole, a Secret into a service-account token, a Namespace's Pod Security
# labels off (f14g's open question; Secrets were in the allowed list above until then)
IDENTITY_BEARING = [("rbac.authorization.k8s.io", "rolebindings"), ("rbac.authorization.k8s.io",
                                                                    "clusterrolebindings"),
                    ("", "secrets"), ("", "serviceaccounts"), ("", "namespaces")]


@pytest.mark.parametrize("kind", ["MutatingWebhookConfiguration", "MutatingAdmissionPolicy"])
@pytest.mark.parametrize(("group", "resource"), IDENTITY_BEARING)
def test_one_rewriting_what_the_identity_guard_judges_is_refused_even_with_allow_mutating_pods(
        kind: str, group: str, resource: str) -> None:
    objects = _mutating(kind, _rule(group, resource))
    refused = borrowing_identity(objects, SETTINGS, configuration_secrets(SETTINGS.sources), KINDS,
                                 namespace_covered(grant_of(TENANT, NS), NS), mutating_pods=True)
    assert [(r.kind, r.name) for r, _ in refused] == [(kind, "inject")], refused
    assert "identity guard" in refused[0][1] and resource in refused[0][1]


def test_a_later_rule_reaching_pods_is_found_and_exclusions_do_not_make_it_safe() -> None:
    rules = [*_rule("", "configmaps"), *_rule("apps", "deployments")]
    assert "webhooks[0].rules[1] picks apps/deployments" in why_mutating_pods(_webhook(rules), KINDS)
    policy = _policy(PRIVILEGED)[0]
    policy["spec"]["matchConstraints"]["excludeResourceRules"] = PODS
    assert "spec.matchConstraints.resourceRules[0] picks pods" in why_mutating_pods(policy, KINDS)


def test_a_binding_of_a_policy_the_revision_does_not_hold_is_judged_by_its_own_rules() -> None:
    """The binding alone puts a policy the cluster already has in force (atk14i): it picks what its own
    ``resourceRules`` pick, everything without them."""
    [(_, why)] = _refused(_policy(PRIVILEGED)[1:])
    assert "spec.matchResources.resourceRules[0] picks pods" in why
    configmaps = [{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE"], "resources": ["configmaps"],
                   "scope": "Namespaced"}]
    assert _refused(_policy(PRIVILEGED, configmaps)[1:]) == []
    unruled = _policy(PRIVILEGED)[1]
    del unruled["spec"]["matchResources"]["resourceRules"]
    assert _refused([unruled])  # refused by the reach check or the mutation check, either way


def test_a_kind_not_granted_is_left_to_the_grant() -> None:
    assert why_mutating_pods(_webhook(), ("MutatingAdmissionPolicy",)) == ""


@pytest.mark.parametrize("objects", [_policy(READ_CREDENTIALS), _policy(PRIVILEGED), [_webhook()]])
def test_the_operators_allow_mutating_pods_grant_waives_it(objects: list[dict[str, Any]]) -> None:
    assert borrowing_identity(objects, SETTINGS, configuration_secrets(SETTINGS.sources), KINDS,
                              namespace_covered(grant_of(TENANT, NS), NS), mutating_pods=True) == []


def test_allow_mutating_pods_is_read_from_the_config_file_and_the_tenants_file_and_is_off_by_default(
        tmp_path: Path) -> None:
    config = tmp_path / "reconciler.yaml"
    config.write_text("namespace: handoff-system\nsources:\n  - name: a\n    url: https://git.example/x.git\n"
                      "    authority: {clusterKinds: [MutatingWebhookConfiguration], allowMutatingPods: true}\n"
                      "  - name: b\n    url: https://git.example/y.git\n    authority: {clusterKinds: []}\n")
    a, b = (s.authority for s in load_settings(config).sources)
    assert a is not None and a.allow_mutating_pods
    assert b is not None and not b.allow_mutating_pods
    assert not Authority().allow_mutating_pods
    tenants = parse_tenants([{"namespaces": ["team-*"], "authority": {"allowMutatingPods": True}},
                             {"namespaces": ["other-*"], "authority": {}}])
    assert authority_for("team-a", tenants, NS).allow_mutating_pods
    assert not authority_for("other-a", tenants, NS).allow_mutating_pods
    assert not authority_for("nobody", tenants, NS).allow_mutating_pods


CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: app}}\ndata: {{rev: \"{rev}\"}}\n"


def _hook_yaml(name: str, ns: str) -> str:
    return f"""apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata: {{name: {name}}}
webhooks:
  - name: inject.{name}.example.com
    admissionReviewVersions: [v1]
    sideEffects: None
    failurePolicy: Ignore
    clientConfig: {{url: "https://127.0.0.1:1/mutate"}}
    namespaceSelector: {{matchExpressions: [{{key: kubernetes.io/metadata.name, operator: In, values: [{ns}]}}]}}
    rules: [{{apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [pods]}}]
"""


@pytest.mark.tools
@pytest.mark.slow
def test_the_loop_holds_a_mutating_webhook_on_pods_unless_the_operator_allows_it(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    c = new_cluster(apiserver, git_server, tmp_path, {"app/cm.yaml": CM.format(rev=1)})
    name = f"inject-{c.target_ns}"
    grant = Authority(namespaces=(c.target_ns,), cluster_kinds=("MutatingWebhookConfiguration",))
    rec = Reconciler(c.settings(renderer="plain", authority=grant), c.client, c.workdir)
    try:
        assert rec.reconcile(rec.settings.sources[0]).ok
        c.repo.commit({"app/hook.yaml": _hook_yaml(name, c.target_ns), "app/cm.yaml": CM.format(rev=2)},
                      "a mutating webhook on the source's own pods")
        refused = rec.reconcile(rec.settings.sources[0])
        assert refused.result == REFUSED, refused.message
        assert (f"app/hook.yaml:1: MutatingWebhookConfiguration/{name} could rewrite pods after the floor and "
                "the identity guard judged them: its webhooks[0].rules[0] picks pods") in refused.message
        assert c.client.get("admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration", name) is None
        assert (c.get("v1", "ConfigMap", "app") or {}).get("data", {}).get("rev") == "1"
        allowed = Authority(namespaces=(c.target_ns,), cluster_kinds=("MutatingWebhookConfiguration",),
                            allow_mutating_pods=True)
        rec = Reconciler(c.settings(renderer="plain", authority=allowed), c.client, c.workdir)
        applied = rec.reconcile(rec.settings.sources[0])
        assert applied.result == SUCCEEDED, applied.message
        assert c.client.get("admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration", name) is not None
    finally:
        with contextlib.suppress(Exception):
            c.client.delete("admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration", name)
