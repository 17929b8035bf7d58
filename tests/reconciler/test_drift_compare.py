from typing import Any

from handoff.reconciler.apply import FOREIGN_MANAGERS, adopted_managed_fields
from handoff.reconciler.drift import compare, owner_of
from handoff.report.model import ObjectRef

REF = ObjectRef("apps/v1", "Deployment", "web", "apps")


def deployment(replicas: int, image: str, managed: list[dict[str, Any]]) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "apps", "resourceVersion": "7", "generation": 3,
                         "managedFields": managed, "labels": {"app": "web"}},
            "spec": {"replicas": replicas, "template": {"spec": {"containers": [{"name": "web", "image": image}]}}},
            "status": {"replicas": replicas}}


HANDOFF = {"manager": "handoff", "operation": "Apply", "fieldsV1": {
    "f:metadata": {"f:labels": {"f:app": {}}},
    "f:spec": {"f:replicas": {}, "f:template": {"f:spec": {"f:containers": {
        'k:{"name":"web"}': {".": {}, "f:image": {}, "f:name": {}}}}}}}}
INTRUDER = {"manager": "intruder", "operation": "Update", "fieldsV1": {"f:spec": {"f:replicas": {}}}}
KUBECTL = {"manager": "kubectl-client-side-apply", "operation": "Update",
           "fieldsV1": {"f:metadata": {"f:labels": {"f:debug": {}}}}}


def test_no_drift_when_only_server_metadata_and_status_differ() -> None:
    live = deployment(2, "web:1", [HANDOFF])
    desired = deployment(2, "web:1", [])
    desired["metadata"]["resourceVersion"] = "8"
    desired["status"] = {}
    assert compare(REF, desired, live) is None


def test_drifted_field_names_the_manager_that_changed_it() -> None:
    live = deployment(5, "web:1", [HANDOFF, INTRUDER])
    drift = compare(REF, deployment(2, "web:1", []), live)
    assert drift is not None
    (field,) = drift.fields
    assert (field.path, field.manager, field.live, field.desired) == ("spec.replicas", "intruder", "5", "2")


def test_list_items_are_matched_by_key_in_managed_fields() -> None:
    live = deployment(2, "web:2", [HANDOFF])
    assert owner_of(live, "spec.template.spec.containers[0].image") == "handoff"


def test_missing_object_is_drift() -> None:
    drift = compare(REF, deployment(2, "web:1", []), None)
    assert drift is not None and drift.missing


def test_kubectl_client_side_fields_are_drift_and_get_adopted() -> None:
    live = deployment(2, "web:1", [HANDOFF, KUBECTL])
    live["metadata"]["labels"]["debug"] = "1"
    desired = deployment(2, "web:1", [])
    desired["metadata"]["labels"]["debug"] = "1"  # a forced apply alone would keep a foreign field
    drift = compare(REF, desired, live, FOREIGN_MANAGERS)
    assert drift is not None
    assert [(f.path, f.manager) for f in drift.fields] == [("metadata.labels.debug", "kubectl-client-side-apply")]
    adopted = adopted_managed_fields(live)
    assert adopted is not None and [e["manager"] for e in adopted] == ["handoff"]
    assert "f:debug" in adopted[0]["fieldsV1"]["f:metadata"]["f:labels"]
    assert "f:replicas" in adopted[0]["fieldsV1"]["f:spec"]


def test_nothing_to_adopt_without_kubectl_managers() -> None:
    assert adopted_managed_fields(deployment(2, "web:1", [HANDOFF, INTRUDER])) is None
