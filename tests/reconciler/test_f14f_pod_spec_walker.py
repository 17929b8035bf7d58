"""One pod-spec walker for the floor and the identity guard: built-in workloads are told by API group and
kind, every other kind is read at every embedded pod spec path."""

from __future__ import annotations

from typing import Any

from handoff.policy.paths import embedded_pod_spec_paths, is_built_in_workload, pod_specs

SPEC: dict[str, Any] = {"containers": [{"name": "c", "image": "x"}]}


def test_a_built_in_workload_is_told_by_group_and_kind() -> None:
    assert is_built_in_workload({"apiVersion": "apps/v1", "kind": "Deployment"})
    assert is_built_in_workload({"apiVersion": "v1", "kind": "Pod"})
    assert is_built_in_workload({"apiVersion": "batch/v1", "kind": "CronJob"})
    assert not is_built_in_workload({"apiVersion": "example.com/v1", "kind": "Pod"})
    assert not is_built_in_workload({"apiVersion": "batch.volcano.sh/v1alpha1", "kind": "Job"})


def test_a_core_pod_yields_its_spec_only() -> None:
    pod = {"apiVersion": "v1", "kind": "Pod", "spec": {**SPEC, "template": {"spec": SPEC}}}
    assert [path for path, _ in pod_specs(pod)] == ["spec"]


def test_a_custom_resource_yields_every_embedded_pod_spec() -> None:
    runner = {"apiVersion": "example.com/v1", "kind": "Runner",
              "spec": {"template": {"spec": SPEC}, "podTemplate": {"spec": SPEC}}}
    assert [path for path, _ in pod_specs(runner)] == ["spec.template.spec", "spec.podTemplate.spec"]
    assert embedded_pod_spec_paths(runner) == ["spec.template.spec", "spec.podTemplate.spec"]


def test_a_path_the_pack_reads_by_kind_name_is_not_read_twice() -> None:
    # the pack reads any kind named Deployment at spec.template.spec; the floor adds only the other paths
    fake = {"apiVersion": "example.com/v1", "kind": "Deployment",
            "spec": {"template": {"spec": SPEC}, "podTemplate": {"spec": SPEC}}}
    assert embedded_pod_spec_paths(fake) == ["spec.podTemplate.spec"]
