"""Every built-in policy's PASS/FAIL examples run as tests, and the pack follows its own rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from handoff.policy.cel_engine import CelEngine
from handoff.policy.fixtures import objects_from_yaml
from handoff.policy.model import PolicyContext
from handoff.policy.pack import builtin_dir, load_policy_file
from handoff.policy.testing import run_example
from handoff.report.model import Severity

from .helpers import assert_violations

PACK = sorted(builtin_dir().glob("*.yaml"))
REQUIRED = {
    "disallow-latest-tag", "require-image-digest", "allowed-registries", "require-requests-limits",
    "require-probes", "run-as-non-root", "disallow-privileged", "disallow-privilege-escalation",
    "disallow-host-path", "image-pull-policy",
}
EXAMPLES = [(path, example) for path in PACK for example in load_policy_file(path).examples]


def test_pack_has_the_required_policies() -> None:
    assert {p.stem for p in PACK} >= REQUIRED


@pytest.mark.parametrize("path", PACK, ids=lambda p: p.stem)
def test_policy_documents_pass_and_fail_and_peer_ids(path) -> None:
    policy = load_policy_file(path)
    verdicts = {e.verdict for e in policy.examples}
    assert verdicts == {"pass", "fail"}
    assert set(policy.equivalents) == {"kube-linter", "polaris", "checkov", "kyverno"}
    assert policy.description
    assert all(e.expect for e in policy.examples if e.verdict == "fail")


@pytest.mark.parametrize(("path", "example"), EXAMPLES, ids=lambda v: getattr(v, "name", getattr(v, "stem", "")))
def test_policy_example(path, example) -> None:
    result = run_example(load_policy_file(path), example)
    assert result.passed, result.problems


def test_fail_names_file_line_column_path_id_and_severity() -> None:
    [finding] = assert_violations(
        """\
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
          namespace: prod
        spec:
          template:
            spec:
              containers:
                - name: web
                  image: nginx:latest
        """,
        "disallow-latest-tag",
        [(11, 11, "disallow-latest-tag")],
    )
    assert finding.file == "manifest.yaml"
    assert finding.path == "spec.template.spec.containers[0].image"
    assert finding.severity is Severity.ERROR
    assert str(finding.object) == "Deployment/prod/web"
    assert "nginx:latest" in finding.message


def test_second_container_index_is_named() -> None:
    findings = assert_violations(
        """\
        apiVersion: v1
        kind: Pod
        metadata: {name: web}
        spec:
          containers:
            - {name: a, image: "nginx:1.27", securityContext: {privileged: false}}
            - name: b
              image: nginx:1.27
              securityContext:
                privileged: true
        """,
        "disallow-privileged",
        [(10, 9, "disallow-privileged")],
    )
    assert findings[0].path == "spec.containers[1].securityContext.privileged"


def test_missing_field_points_at_the_container() -> None:
    findings = assert_violations(
        """\
        apiVersion: v1
        kind: Pod
        metadata: {name: web}
        spec:
          containers:
            - name: web
              image: nginx:1.27
              readinessProbe: {exec: {command: [true]}}
        """,
        "require-probes",
        [(6, 7, "require-probes")],
    )
    assert findings[0].path == "spec.containers[0].livenessProbe"


def test_require_image_digest_is_off_unless_enabled() -> None:
    manifest = """\
        apiVersion: v1
        kind: Pod
        metadata: {name: web}
        spec:
          containers:
            - {name: web, image: "ghcr.io/acme/web:1.0"}
        """
    assert_violations(manifest, "require-image-digest", [])
    assert_violations(manifest, "require-image-digest", [(6, 19, "require-image-digest")], params={"enabled": True})


def test_non_workloads_are_ignored() -> None:
    assert_violations(
        """\
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: web}
        data: {image: "nginx:latest"}
        """,
        "disallow-latest-tag",
        [],
    )


def test_fast_and_slow_evaluation_agree() -> None:
    policies = [load_policy_file(p) for p in PACK]
    texts = [e.yaml for p in policies for e in p.examples]
    texts.append((Path(__file__).parent / "fixtures" / "rego" / "manifests.yaml").read_text())
    objects = [o for i, t in enumerate(texts) for o in objects_from_yaml(t, f"doc{i}.yaml")]
    context = PolicyContext(params={"require-image-digest.enabled": True, "allowed-registries.registries": ["x.io"]})
    fast = CelEngine(policies).evaluate(objects, context).findings
    slow = CelEngine(policies, fast=False).evaluate(objects, context).findings
    assert len(fast) > 40
    assert sorted(fast, key=repr) == sorted(slow, key=repr)


def test_expression_error_is_a_finding_not_a_crash(tmp_path) -> None:
    (tmp_path / "needs-owner.yaml").write_text(
        "id: needs-owner\nseverity: warning\ndescription: x\nforeach: containers\n"
        "validations:\n  - expression: self.env[0].name == 'OWNER'\n    path: env\n"
    )
    objects = objects_from_yaml("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n"
                                "spec:\n  containers:\n    - {name: a, image: 'x:1'}\n", "pod.yaml")
    [finding] = CelEngine([load_policy_file(tmp_path / "needs-owner.yaml")]).evaluate(objects, PolicyContext()).findings
    assert finding.path == "spec.containers[0].env"
    assert finding.message.startswith("expression could not be evaluated")


def test_kind_prefilter_matches_each_object_as_alone() -> None:
    """Policies are prefiltered by kind once per kind of a batch: a mixed batch (including an object
    whose kind is not a string) gets exactly the findings each object gets when evaluated alone."""
    policies = [load_policy_file(p) for p in PACK]
    texts = [e.yaml for p in policies for e in p.examples]
    texts.append("apiVersion: v1\nkind: [Pod]\nmetadata: {name: odd}\nspec:\n"
                 "  containers: [{name: a, image: 'nginx:latest'}]\n")
    objects = [o for i, t in enumerate(texts) for o in objects_from_yaml(t, f"doc{i}.yaml")]
    context = PolicyContext(params={"require-image-digest.enabled": True})
    engine = CelEngine(policies)
    together = list(engine.evaluate(objects, context).findings)
    alone = [f for o in objects for f in CelEngine(policies).evaluate([o], context).findings]
    assert len(together) > 40
    assert sorted(together, key=repr) == sorted(alone, key=repr)
