"""atk14f: the floor's embedded pod spec check (issue 14) against other spellings of a custom resource's pod:
privileged init containers beside an empty ``containers`` list, ephemeral containers, and a custom resource
carrying pod templates at two of the known paths (only the first was read). Units on ``floor.check`` over a
real plan (plain render of a temporary tree), as tests/reconciler/test_floor_embedded_pod_spec.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from handoff.reconciler import floor
from handoff.reconciler.config import PolicyFloor
from handoff.workflows.plan import plan_source_path

PRIVILEGED = """    - name: {name}
      image: registry.example/agent:1.0.0
      securityContext: {{privileged: true}}
      resources: {{requests: {{cpu: 100m, memory: 64Mi}}, limits: {{cpu: 200m, memory: 128Mi}}}}
"""
CLEAN = """    - name: main
      image: registry.example/agent:1.0.0
      resources: {requests: {cpu: 100m, memory: 64Mi}, limits: {cpu: 200m, memory: 128Mi}}
"""


def _check(tmp_path: Path, text: str) -> floor.FloorVerdict:
    (tmp_path / "app").mkdir(exist_ok=True)
    (tmp_path / "app" / "x.yaml").write_text(text)
    plan = plan_source_path(tmp_path, None, tmp_path / "app", kind="plain", namespace="app")
    return floor.check(PolicyFloor(), plan, None)


def _runner(spec_body: str) -> str:
    return ("apiVersion: example.com/v1\nkind: Runner\nmetadata: {name: agent, namespace: app}\n"
            "spec:\n  template:\n    spec:\n" + spec_body)


@pytest.mark.parametrize("key", ["initContainers", "ephemeralContainers"])  # held: kept as regression
def test_a_privileged_non_main_container_of_a_custom_resource_is_refused(tmp_path: Path, key: str) -> None:
    text = _runner("      containers: []\n" + f"      {key}:\n" + "\n".join(
        "  " + line for line in PRIVILEGED.format(name="sidecar").splitlines()) + "\n")
    verdict = _check(tmp_path, text)
    assert any(f.rule == "disallow-privileged" for f in verdict.errors), (
        f"a privileged container in a custom resource's pod spec {key} (containers: []) must be refused by "
        f"the floor's baseline like a Deployment's: {[(f.rule, f.path) for f in verdict.errors]}")


def test_every_known_pod_spec_path_of_a_custom_resource_is_checked(tmp_path: Path) -> None:
    # a CR with a clean spec.template.spec and a privileged spec.podTemplate.spec (a controller that runs
    # both, e.g. a leader pod and worker pods): the second must be checked too
    indented = "\n".join("  " + line for line in PRIVILEGED.format(name="worker").splitlines())
    text = ("apiVersion: example.com/v1\nkind: Runner\nmetadata: {name: agent, namespace: app}\n"
            "spec:\n  template:\n    spec:\n      containers:\n" + "\n".join(
                "  " + line for line in CLEAN.splitlines()) + "\n"
            "  podTemplate:\n    spec:\n      containers:\n" + indented + "\n")
    verdict = _check(tmp_path, text)
    assert any(f.rule == "disallow-privileged" for f in verdict.errors), (
        "the floor must check every pod spec a custom resource holds at EMBEDDED_POD_SPEC_PATHS, not only "
        "the first: a privileged spec.podTemplate.spec beside a clean spec.template.spec was admitted: "
        f"{[(f.rule, f.path) for f in verdict.errors]}")


@pytest.mark.parametrize(("kind", "place"), [("Pod", "template"), ("CronJob", "template"),
                                             ("Deployment", "podTemplate"), ("Job", "podTemplate")])
def test_a_custom_resource_named_like_a_built_in_workload_is_checked(tmp_path: Path, kind: str,
                                                                    place: str) -> None:
    # example.com/v1 Pod is not a core Pod: its controller runs spec.<place>.spec as a pod (a CRD may take
    # any kind name; Volcano's batch.volcano.sh Job is one), so the kind name alone must not skip it
    indented = "\n".join("  " + line for line in PRIVILEGED.format(name="worker").splitlines())
    text = (f"apiVersion: example.com/v1\nkind: {kind}\nmetadata: {{name: agent, namespace: app}}\n"
            f"spec:\n  {place}:\n    spec:\n      containers:\n" + indented + "\n")
    verdict = _check(tmp_path, text)
    assert any(f.rule == "disallow-privileged" for f in verdict.errors), (
        f"a privileged pod spec at spec.{place}.spec of custom resource example.com/v1 {kind} must be refused "
        "by the floor (WORKLOAD_KINDS is matched by kind name only, not by group): "
        f"{[(f.rule, f.path) for f in verdict.errors]}")
