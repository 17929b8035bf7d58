from pathlib import Path

import yaml

from handoff.cli import main
from handoff.manifests.plain import objects_from_text
from handoff.policy.runner import PolicyCheck, options_from_config
from handoff.validate import SchemaOptions, validate


def printed(capsys, *args: str) -> str:  # type: ignore[no-untyped-def]
    assert main(["reconciler", "manifests", *args]) == 0
    return str(capsys.readouterr().out)


def test_cluster_wide_manifests_pass_handoffs_own_validation_and_policy_pack(capsys) -> None:  # type: ignore[no-untyped-def]
    text = printed(capsys, "--namespace", "gitops")
    policies = PolicyCheck(options_from_config(None, Path.cwd()))  # the built-in pack, as in CI
    report = validate(objects_from_text(text, "manifests.yaml"), schema_options=SchemaOptions(strict=True),
                      extra_checks=[policies])
    assert report.findings == ()  # not even a warning
    kinds = [d["kind"] for d in yaml.safe_load_all(text)]
    assert kinds == ["CustomResourceDefinition", "Namespace", "ServiceAccount", "Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding",
                     "ConfigMap", "Deployment", "Service"]


def test_namespaced_install_has_no_cluster_rbac(capsys) -> None:  # type: ignore[no-untyped-def]
    docs = list(yaml.safe_load_all(printed(capsys, "--namespaced", "--namespace", "team-a")))
    assert not [d for d in docs if d["kind"].startswith("Cluster")]
    assert all(d["metadata"].get("namespace") == "team-a" for d in docs if d["kind"] != "Namespace")


def test_deployment_is_hardened(capsys) -> None:  # type: ignore[no-untyped-def]
    docs = list(yaml.safe_load_all(printed(capsys)))
    deploy = next(d for d in docs if d["kind"] == "Deployment")
    (container,) = deploy["spec"]["template"]["spec"]["containers"]
    sc = container["securityContext"]
    assert sc["runAsNonRoot"] and sc["readOnlyRootFilesystem"] and not sc["allowPrivilegeEscalation"]
    assert sc["capabilities"]["drop"] == ["ALL"]
    assert container["resources"]["limits"]["memory"] and container["resources"]["requests"]["cpu"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    rules = [r for d in docs if d["kind"] == "ClusterRole" for r in d["rules"]]
    assert not {"impersonate", "escalate", "bind"} & {v for r in rules for v in r["verbs"]}


def test_the_default_grant_is_application_kinds_never_rbac_webhooks_or_crds(capsys) -> None:  # type: ignore[no-untyped-def]
    for args in ((), ("--namespaced", "--namespace", "team-a")):
        docs = list(yaml.safe_load_all(printed(capsys, *args)))
        rules = [r for d in docs if d["kind"] in ("ClusterRole", "Role") and d["metadata"]["name"] !=
                 "handoff-reconciler-self" for r in d["rules"]]
        groups = {g for r in rules for g in r["apiGroups"]}
        resources = {res for r in rules for res in r["resources"]}
        assert "*" not in groups and "*" not in resources
        assert not groups & {"rbac.authorization.k8s.io", "admissionregistration.k8s.io", "apiextensions.k8s.io"}
        assert {"deployments", "services", "configmaps"} <= resources
        assert ("namespaces" in resources) == (not args)  # a namespaced reconciler cannot manage Namespaces


def test_every_kind_only_when_the_operator_asks_for_cluster_admin(capsys) -> None:  # type: ignore[no-untyped-def]
    docs = list(yaml.safe_load_all(printed(capsys, "--preset", "cluster-admin")))
    (role,) = [d for d in docs if d["kind"] == "ClusterRole"]
    assert role["rules"] == [{"apiGroups": ["*"], "resources": ["*"],
                              "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"]}]


def test_impersonation_is_granted_only_for_the_named_service_accounts_and_their_groups(capsys) -> None:  # type: ignore[no-untyped-def]
    docs = list(yaml.safe_load_all(printed(capsys, "--impersonate", "team-a/deployer",
                                           "--impersonate", "team-b/ci")))
    rules = {(d["kind"], d["metadata"].get("namespace", "")): d["rules"] for d in docs
             if d["metadata"]["name"] == "handoff-reconciler-impersonate" and "rules" in d}
    assert rules[("Role", "team-a")] == [{"apiGroups": [""], "resources": ["serviceaccounts"],
                                          "verbs": ["impersonate"], "resourceNames": ["deployer"]}]
    assert rules[("Role", "team-b")][0]["resourceNames"] == ["ci"]
    assert rules[("ClusterRole", "")] == [{"apiGroups": [""], "resources": ["groups"], "verbs": ["impersonate"],
                                          "resourceNames": ["system:authenticated", "system:serviceaccounts",
                                                            "system:serviceaccounts:team-a",
                                                            "system:serviceaccounts:team-b"]}]
    plain = list(yaml.safe_load_all(printed(capsys)))
    assert not [d for d in plain if "impersonate" in d["metadata"]["name"]]  # nothing unless asked
    assert main(["reconciler", "manifests", "--namespaced", "--impersonate", "team-a/deployer"]) != 0
