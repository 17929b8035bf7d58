"""The floor's Pod Security baseline reads AppArmor from the legacy annotations too:
``container.apparmor.security.beta.kubernetes.io/<container>`` on a Pod's or pod template's metadata, for
every workload kind, with the values baseline allows (``runtime/default``, ``localhost/*``, empty) passing
(issue 14, atk14d D1). No cluster needed: the floor's check runs on rendered objects."""

from __future__ import annotations

import pytest

from handoff.manifests.model import RenderResult
from handoff.policy.fixtures import objects_from_yaml
from handoff.reconciler import floor
from handoff.reconciler.config import PolicyFloor
from handoff.report.model import ValidationReport
from handoff.workflows.plan import Plan

_KEY = "container.apparmor.security.beta.kubernetes.io/main"
_POD_SPEC = "containers: [{name: main, image: registry.example/agent:1.0.0}]"


def _workload(kind: str, value: str) -> str:
    meta = f"{{annotations: {{{_KEY}: '{value}'}}}}"
    template = f"{{metadata: {meta}, spec: {{{_POD_SPEC}}}}}"
    body = {
        "Pod": f"metadata: {{name: agent, annotations: {{{_KEY}: '{value}'}}}}\nspec: {{{_POD_SPEC}}}",
        "PodTemplate": f"metadata: {{name: agent}}\ntemplate: {template}",
        "CronJob": f"metadata: {{name: agent}}\nspec: {{schedule: '* * * * *', jobTemplate: "
                   f"{{spec: {{template: {template}}}}}}}",
    }.get(kind, f"metadata: {{name: agent}}\nspec: {{template: {template}}}")
    api = {"Pod": "v1", "PodTemplate": "v1", "ReplicationController": "v1", "CronJob": "batch/v1",
           "Job": "batch/v1"}.get(kind, "apps/v1")
    return f"apiVersion: {api}\nkind: {kind}\n{body}\n"


def _floor_rules(manifest: str) -> set[str]:
    plan = Plan(env=None, revision="r1", rendered=RenderResult(tuple(objects_from_yaml(manifest, "w.yaml"))),
                report=ValidationReport())
    return {f.rule for f in floor.check(PolicyFloor(), plan, None).errors}


KINDS = ["Pod", "PodTemplate", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet",
         "ReplicationController", "Job", "CronJob"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("value", ["unconfined", "Unconfined", "runtime/other"])
def test_apparmor_off_by_annotation_is_refused(kind: str, value: str) -> None:
    assert "restrict-pod-security-options" in _floor_rules(_workload(kind, value))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("value", ["runtime/default", "localhost/web", ""])
def test_baseline_apparmor_annotations_pass(kind: str, value: str) -> None:
    assert "restrict-pod-security-options" not in _floor_rules(_workload(kind, value))
