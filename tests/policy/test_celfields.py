"""The CEL engine binds only the pod-spec fields a group of policies selects; what the policies see
through ``self`` and ``podSpec`` must be exactly what the whole pod spec shows them."""

from __future__ import annotations

from pathlib import Path

import pytest

from handoff.policy.cel_engine import CelEngine
from handoff.policy.celfields import (
    FieldsRead,
    ObjectRead,
    PodSpecCut,
    cut_object,
    cut_pod_spec,
    fields_read,
    object_read,
    pod_spec_cut,
)
from handoff.policy.fixtures import objects_from_yaml
from handoff.policy.model import PolicyContext
from handoff.policy.pack import builtin_dir, load_policy_file
from handoff.policy.paths import NAMED_LISTS
from tests.harness.paths import CORPUS


def test_field_selections_are_what_an_expression_reads() -> None:
    read = fields_read(["has(self.securityContext) && self.securityContext.runAsNonRoot == true",
                        "'container ' + self.name + ' at ' + podSpec.nodeName",
                        "self.image.contains('@')"])
    assert read == FieldsRead(frozenset({"securityContext", "name", "image"}), frozenset({"nodeName"}))
    assert fields_read(["object.spec.replicas > 1"]) == FieldsRead(frozenset(), frozenset())


@pytest.mark.parametrize("expression", [
    "size(self) > 2", "self.all(k, k != 'env')", "self['image'] != ''", "self.?image.orValue('') != ''",
    "string(podSpec) != ''", "'self' != ''", "self . exists(c, true)",
])
def test_any_other_use_of_self_or_podspec_reads_everything(expression: str) -> None:
    assert fields_read([expression]) is None


def test_the_cut_keeps_selected_fields_whole_and_anything_odd_as_it_is() -> None:
    read = FieldsRead(frozenset({"image"}), frozenset({"securityContext"}))
    cut = pod_spec_cut([("containers", read), ("podSpec", FieldsRead(frozenset({"volumes"}), frozenset()))],
                       NAMED_LISTS)
    assert cut == PodSpecCut(frozenset({"securityContext", "volumes"}), {"containers": frozenset({"image"})})
    spec = {"securityContext": {"runAsNonRoot": True}, "volumes": [{"name": "v", "hostPath": {"path": "/"}}],
            "containers": [{"name": "a", "image": "x:1", "env": [{"name": "E"}]}, "not-a-container"],
            "nodeName": "n1"}
    assert cut_pod_spec(spec, cut) == {"securityContext": {"runAsNonRoot": True}, "volumes": spec["volumes"],
                                       "containers": [{"image": "x:1"}, "not-a-container"]}
    assert cut_pod_spec(spec, None) is spec and cut_pod_spec("oops", cut) == "oops"
    assert pod_spec_cut([("containers", read), ("volumes", None)], NAMED_LISTS) is None


def _corpus_objects() -> list:
    texts = sorted(p for p in (CORPUS / "manifests").rglob("*.y*ml") if p.is_file())
    if not texts:
        pytest.fail(f"the shared corpus is missing at {CORPUS}")
    objects = []
    for path in texts:
        objects.extend(objects_from_yaml(path.read_text(encoding="utf-8"), path.name))
    return objects


def test_the_pack_on_the_whole_corpus_finds_what_the_uncut_slow_path_finds() -> None:
    policies = [load_policy_file(p) for p in sorted(builtin_dir().glob("*.yaml"))]
    objects = _corpus_objects()
    context = PolicyContext(params={"require-image-digest.enabled": True, "allowed-registries.registries": ["x.io"]})
    fast = CelEngine(policies).evaluate(objects, context).findings
    slow = CelEngine(policies, fast=False).evaluate(objects, context).findings
    assert len(fast) > 100
    assert sorted(fast, key=repr) == sorted(slow, key=repr)


def test_a_policy_reading_a_whole_container_sees_all_of_it(tmp_path: Path) -> None:
    (tmp_path / "no-env.yaml").write_text(
        "id: no-env\nseverity: warning\ndescription: x\nforeach: containers\n"
        "validations:\n  - expression: self.all(k, k != 'env')\n    message: no env please\n")
    (tmp_path / "has-image.yaml").write_text(
        "id: has-image\nseverity: warning\ndescription: x\nforeach: containers\n"
        "validations:\n  - expression: has(self.image)\n    message: image\n")
    policies = [load_policy_file(tmp_path / "no-env.yaml"), load_policy_file(tmp_path / "has-image.yaml")]
    objects = objects_from_yaml("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
                                "    - {name: a, image: 'x:1', env: [{name: E, value: v}]}\n", "pod.yaml")
    found = CelEngine(policies).evaluate(objects, PolicyContext()).findings
    assert [(f.rule, f.message) for f in found] == [("no-env", "no env please")]
    assert found == CelEngine(policies, fast=False).evaluate(objects, PolicyContext()).findings


def test_a_field_only_tested_for_presence_is_bound_empty() -> None:
    probes = fields_read(["has(self.livenessProbe)", "has( self . readinessProbe )",
                          "'container ' + self.name + ' has no probe'"])
    assert probes == FieldsRead(frozenset({"livenessProbe", "readinessProbe", "name"}), frozenset(),
                                frozenset({"livenessProbe", "readinessProbe"}))
    # any other use of the field (a deeper has(), its value in a message) needs the value
    deeper = fields_read(["has(self.resources) && has(self.resources.limits)", "has(self.livenessProbe)",
                          "'probe: ' + string(self.livenessProbe.periodSeconds)"])
    assert deeper is not None and deeper.presence_only == frozenset()
    cut = pod_spec_cut([("containers", probes), ("allContainers", FieldsRead(frozenset({"image"}), frozenset()))],
                       NAMED_LISTS)
    assert cut is not None and cut.presence == {"containers": frozenset({"livenessProbe", "readinessProbe"})}
    spec = {"containers": [{"name": "a", "image": "x:1", "livenessProbe": {"httpGet": {"path": "/"}},
                            "readinessProbe": None}],
            "initContainers": [{"name": "i", "image": "y:1", "livenessProbe": {"exec": {}}}]}
    assert cut_pod_spec(spec, cut) == {"containers": [{"name": "a", "image": "x:1", "livenessProbe": {},
                                                       "readinessProbe": None}],
                                       "initContainers": [{"image": "y:1"}]}
    # a policy reading the value for the same list keeps it whole
    valued = pod_spec_cut([("containers", probes), ("containers", deeper)], NAMED_LISTS)
    assert valued is not None and valued.presence == {"containers": frozenset({"readinessProbe"})}


def test_object_chains_are_what_an_expression_selects_on_object() -> None:
    read = object_read(["object.kind != 'Pod' || !has(object.metadata) || !has(object.metadata.annotations) "
                        "|| object.metadata.annotations.all(k, object.metadata.annotations[k] != '')",
                        "'in ' + object.metadata.namespace"])
    assert read == ObjectRead(
        values=frozenset({("kind",), ("metadata", "annotations"), ("metadata", "namespace")}),
        presence=frozenset({("metadata",), ("metadata", "annotations")}))
    for other in ("size(object) > 1", "object['kind'] == 'Pod'", "object.?kind.orValue('') == ''",
                  "string(object) != ''", "'the object' != ''"):
        assert object_read([other]) is None, other


def test_the_object_cut_keeps_chains_and_fails_where_the_object_fails() -> None:
    read = ObjectRead(values=frozenset({("kind",), ("spec", "template", "metadata", "annotations")}),
                      presence=frozenset({("spec",), ("spec", "template"), ("status",)}))
    obj = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
           "spec": {"replicas": 2, "template": {"metadata": {"labels": {"app": "web"},
                                                             "annotations": {"a": "b"}},
                                                "spec": {"containers": [{"name": "c"}]}}},
           "status": {"replicas": 2}}
    assert cut_object(obj, read) == {"kind": "Deployment",
                                     "spec": {"template": {"metadata": {"annotations": {"a": "b"}}}},
                                     "status": {}}
    # a field on a chain that is not a mapping stays as it is: selecting into it fails on both
    odd = {"kind": "Deployment", "spec": "oops"}
    assert cut_object(odd, read) == odd
    assert cut_object({"kind": "Pod"}, read) == {"kind": "Pod"}
