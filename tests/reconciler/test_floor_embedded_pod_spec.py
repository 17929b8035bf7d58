"""The floor's Pod Security baseline reads a pod spec inside any kind (issue 14, atk14e E3): a custom
resource's ``spec.template.spec``, ``spec.jobTemplate.spec.template.spec`` or ``spec.podTemplate.spec``
(its controller runs that pod as-is) is checked like a Deployment's template, and each finding names the
custom resource and the path inside it. Built-in kinds keep their verdicts. Units on ``floor.check`` over a
real plan (plain render of a temporary tree)."""

from __future__ import annotations

from pathlib import Path

import pytest

from handoff.config import Waiver
from handoff.policy.paths import embedded_pod_spec_paths
from handoff.reconciler import floor
from handoff.reconciler.config import PolicyFloor
from handoff.workflows.plan import plan_source_path

POD_SPEC = """hostPID: true
containers:
  - name: main
    image: registry.example/agent:1.0.0
    securityContext: {privileged: true}
    resources: {requests: {cpu: 100m, memory: 64Mi}, limits: {cpu: 200m, memory: 128Mi}}
volumes: [{name: root, hostPath: {path: /}}]
"""
CLEAN_SPEC = """containers:
  - name: main
    image: registry.example/agent:1.0.0
"""


def _indent(text: str, by: int) -> str:
    return "".join(" " * by + line + "\n" for line in text.splitlines())


def _cr(place: str, spec: str) -> str:
    # place: dotted path of the pod template (its ``spec`` holds the pod spec)
    steps = place.split(".")
    out = "apiVersion: example.com/v1\nkind: Runner\nmetadata: {name: agent, namespace: app}\n"
    for depth, step in enumerate(steps):
        out += " " * (2 * depth) + f"{step}:\n"
    out += " " * (2 * len(steps)) + "spec:\n" + _indent(spec, 2 * len(steps) + 2)
    return out


def _check(tmp_path: Path, text: str, policy_floor: PolicyFloor | None = None) -> floor.FloorVerdict:
    (tmp_path / "app").mkdir(exist_ok=True)
    (tmp_path / "app" / "x.yaml").write_text(text)
    plan = plan_source_path(tmp_path, None, tmp_path / "app", kind="plain", namespace="app")
    return floor.check(policy_floor or PolicyFloor(), plan, None)


@pytest.mark.parametrize("place", ["spec.template", "spec.jobTemplate.spec.template", "spec.podTemplate"])
def test_a_privileged_pod_spec_inside_a_custom_resource_is_refused(tmp_path: Path, place: str) -> None:
    verdict = _check(tmp_path, _cr(place, POD_SPEC))
    rules = {f.rule for f in verdict.errors}
    assert {"disallow-privileged", "disallow-host-namespaces", "disallow-host-path"} <= rules, rules
    assert all(f.object is not None and f.object.kind == "Runner" for f in verdict.errors)
    assert all(f.path.startswith(f"{place}.spec") for f in verdict.errors if f.path), \
        [f.path for f in verdict.errors]
    assert all(f.file.endswith("x.yaml") and f.line > 1 for f in verdict.errors)


@pytest.mark.parametrize("place", ["spec.template", "spec.jobTemplate.spec.template", "spec.podTemplate"])
def test_a_baseline_pod_spec_inside_a_custom_resource_passes(tmp_path: Path, place: str) -> None:
    assert _check(tmp_path, _cr(place, CLEAN_SPEC)).errors == ()


def test_a_template_without_containers_is_not_a_pod_spec() -> None:
    obj = {"kind": "Widget", "spec": {"template": {"spec": {"hostPID": True}}}}
    assert not embedded_pod_spec_paths(obj)


def test_built_in_kinds_are_read_where_they_always_were() -> None:
    deployment = {"kind": "Deployment", "spec": {"template": {"spec": {"containers": []}}}}
    assert not embedded_pod_spec_paths(deployment)  # the pack matches it by kind, as before


def test_a_built_in_workload_gives_the_same_findings_as_before(tmp_path: Path) -> None:
    deployment = ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: app}\nspec:\n"
                  "  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n"
                  "    spec:\n" + _indent(POD_SPEC, 6))
    verdict = _check(tmp_path, deployment)
    rules = sorted(f.rule for f in verdict.errors)
    assert rules.count("disallow-privileged") == 1 and rules.count("disallow-host-path") == 1, rules


HOST_PATH_ONLY = """containers:
  - name: main
    image: registry.example/agent:1.0.0
volumes: [{name: root, hostPath: {path: /var/log}}]
"""
OPERATOR_ALLOWS = PolicyFloor(waivers=(Waiver(policy="disallow-host-path", match={"kind": "Runner"},
                                              reason="the log agent reads node logs", line=3),))


def _annotated(text: str) -> str:
    return text.replace("metadata: {name: agent, namespace: app}",
                        "metadata: {name: agent, namespace: app, annotations: "
                        "{handoff.dev/waive: disallow-host-path=reads node logs}}")


def test_a_custom_resource_finding_is_waived_only_when_repo_and_operator_both_say_so(tmp_path: Path) -> None:
    requested = _annotated(_cr("spec.template", HOST_PATH_ONLY))
    waived = _check(tmp_path, requested, OPERATOR_ALLOWS)
    assert waived.errors == (), waived.errors
    assert any(w.rule == "disallow-host-path" and "policyFloor.waivers" in w.source for w in waived.waivers)
    assert any(w.rule == "disallow-host-path" and "reads node logs" in w.reason for w in waived.waivers)
    # the repo's request alone, or the operator's allowance alone, drops nothing
    assert {f.rule for f in _check(tmp_path, requested).errors} == {"disallow-host-path"}
    assert {f.rule for f in _check(tmp_path, _cr("spec.template", HOST_PATH_ONLY), OPERATOR_ALLOWS).errors} == {
        "disallow-host-path"}
