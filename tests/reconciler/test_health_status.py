import json

from handoff.reconciler.drift import Drift, DriftedField
from handoff.reconciler.health import DEGRADED, HEALTHY, PROGRESSING, UNKNOWN, health
from handoff.reconciler.inventory import decode, encode
from handoff.reconciler.status import FAILED, MAX_BYTES, PassResult, status_data
from handoff.report.model import ObjectRef

DEPLOY = ObjectRef("apps/v1", "Deployment", "web", "apps")


def test_deployment_rollout_states() -> None:
    base = {"metadata": {"generation": 2}, "spec": {"replicas": 3}}
    assert health(DEPLOY, {**base, "status": {"observedGeneration": 1}}).status == PROGRESSING
    rolling = {"observedGeneration": 2, "updatedReplicas": 1, "availableReplicas": 3}
    assert health(DEPLOY, {**base, "status": rolling}).status == PROGRESSING
    done = {"observedGeneration": 2, "updatedReplicas": 3, "availableReplicas": 3}
    assert health(DEPLOY, {**base, "status": done}).status == HEALTHY
    stuck = {**rolling, "conditions": [{"type": "Progressing", "status": "False",
                                        "reason": "ProgressDeadlineExceeded", "message": "too slow"}]}
    assert health(DEPLOY, {**base, "status": stuck}) .status == DEGRADED


def test_job_conditions_and_unknown_kinds() -> None:
    job = ObjectRef("batch/v1", "Job", "migrate", "apps")
    assert health(job, {"status": {"conditions": [{"type": "Complete", "status": "True"}]}}).status == HEALTHY
    assert health(job, {"status": {"conditions": [{"type": "Failed", "status": "True"}]}}).status == DEGRADED
    widget = ObjectRef("example.com/v1", "Widget", "w", "apps")
    assert health(widget, {"status": {"conditions": [{"type": "Ready", "status": "False"}]}}).status == DEGRADED
    assert health(widget, {}).status == UNKNOWN


def test_status_stays_bounded_with_thousands_of_drifted_objects() -> None:
    drift = tuple(Drift(ObjectRef("v1", "ConfigMap", f"cm-{i}", "apps"),
                        tuple(DriftedField(f"data.k{j}", "intruder", "x" * 200, "y" * 200) for j in range(20)))
                  for i in range(2000))
    result = PassResult(source="web", result=FAILED, message="boom " * 1000, drift=drift,
                        pruned=tuple(ObjectRef("v1", "ConfigMap", f"old-{i}", "apps") for i in range(2000)))
    data = status_data(result)
    assert sum(len(v) for v in data.values()) <= MAX_BYTES
    assert json.loads(data["counts"])["drifted"] == 2000
    assert data["result"] == "Failed"


def test_status_keeps_last_success_time_across_failures() -> None:
    data = status_data(PassResult(source="web", result=FAILED), {"lastSuccessTime": "2026-01-01T00:00:00Z"})
    assert data["lastSuccessTime"] == "2026-01-01T00:00:00Z"


def test_inventory_round_trip() -> None:
    refs = (ObjectRef("v1", "Namespace", "apps"), ObjectRef("apps/v1", "Deployment", "web", "apps"))
    assert set(decode(encode(refs))) == set(refs)


def test_rollout_waits_for_old_replicas_and_statefulset_revisions() -> None:
    base = {"metadata": {"generation": 2}, "spec": {"replicas": 2}}
    surplus = {"observedGeneration": 2, "replicas": 3, "updatedReplicas": 2, "availableReplicas": 2}
    assert health(DEPLOY, {**base, "status": surplus}).status == PROGRESSING
    sts = ObjectRef("apps/v1", "StatefulSet", "db", "apps")
    pending = {"observedGeneration": 2, "replicas": 2, "updatedReplicas": 2, "readyReplicas": 2,
               "currentRevision": "db-1", "updateRevision": "db-2"}
    assert health(sts, {**base, "status": pending}).status == PROGRESSING
    assert health(sts, {**base, "status": {**pending, "currentRevision": "db-2"}}).status == HEALTHY


def test_job_failure_target_is_degraded() -> None:
    job = ObjectRef("batch/v1", "Job", "migrate", "apps")
    failing = {"status": {"conditions": [{"type": "FailureTarget", "status": "True", "reason": "BackoffLimitExceeded"}]}}
    assert health(job, failing).status == DEGRADED
