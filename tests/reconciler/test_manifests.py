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
    assert kinds == ["Namespace", "ServiceAccount", "Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding",
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
