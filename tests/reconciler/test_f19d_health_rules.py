"""f19d: health() on the status shapes controllers write (kstatus conventions, Pods, suspended Jobs,
partitioned StatefulSets), and which missing objects are not drift. The real-cluster counterparts are
tests/atk19/test_atk19b_health.py and tests/reconciler/test_f19d_job_ttl.py."""

from __future__ import annotations

from typing import Any

import pytest

from handoff.reconciler.drift import removed_when_finished
from handoff.reconciler.health import DEGRADED, HEALTHY, PROGRESSING, SUSPENDED, UNKNOWN, Health, health
from handoff.report.model import ObjectRef

WIDGET = ObjectRef("example.com/v1", "Widget", "w", "apps")
POD = ObjectRef("v1", "Pod", "p", "apps")
JOB = ObjectRef("batch/v1", "Job", "migrate", "apps")


def _ready(status: str, reason: str = "", **extra: Any) -> dict[str, Any]:
    condition = {"type": "Ready", "status": status, **({"reason": reason} if reason else {}), **extra}
    return {"status": {"conditions": [condition]}}


@pytest.mark.parametrize("reason", ["Progressing", "Issuing", "Reconciling", "DependencyNotReady",
                                    "ContainersNotReady", "Pending"])
def test_ready_false_while_the_controller_works_is_progressing(reason: str) -> None:
    assert health(WIDGET, _ready("False", reason)).status == PROGRESSING


@pytest.mark.parametrize("reason", ["InstallFailed", "ReconciliationFailed", "ServiceNotFound", "InvalidSpec",
                                    "ProgressDeadlineExceeded", "ImagePullBackOff", "MinimumReplicasUnavailable"])
def test_ready_false_for_a_failure_reason_is_degraded(reason: str) -> None:
    assert health(WIDGET, _ready("False", reason)).status == DEGRADED


def test_kstatus_stalled_fails_and_reconciling_is_in_progress_whatever_ready_says() -> None:
    stalled = {"status": {"conditions": [{"type": "Ready", "status": "False", "reason": "Progressing"},
                                         {"type": "Stalled", "status": "True", "reason": "BuildFailed",
                                          "message": "kustomize build failed"}]}}
    assert health(WIDGET, stalled) == Health(WIDGET, DEGRADED, "kustomize build failed")
    reconciling = {"status": {"conditions": [{"type": "Ready", "status": "True"},
                                             {"type": "Reconciling", "status": "True", "reason": "Progressing"}]}}
    assert health(WIDGET, reconciling).status == PROGRESSING


def test_a_ready_condition_of_an_older_generation_says_nothing_yet() -> None:
    stale_status = {"metadata": {"generation": 3}, "status": {"observedGeneration": 2, **_ready("True")["status"]}}
    assert health(WIDGET, stale_status).status == PROGRESSING
    stale_condition = {"metadata": {"generation": 3}, **_ready("True", observedGeneration=2)}
    assert health(WIDGET, stale_condition).status == PROGRESSING
    current = {"metadata": {"generation": 3}, **_ready("True", observedGeneration=3)}
    assert health(WIDGET, current).status == HEALTHY
    assert health(WIDGET, {"metadata": {"generation": 3}, "status": {"observedGeneration": 3}}).status == UNKNOWN


def test_pods_read_as_kstatus_reads_them() -> None:
    assert health(POD, {"status": {"phase": "Pending"}}).status == PROGRESSING
    unschedulable = {"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False",
                                                         "reason": "Unschedulable"}]}
    assert health(POD, {"status": unschedulable}).status == PROGRESSING
    assert health(POD, {"status": {"phase": "Succeeded"}}).status == HEALTHY
    assert health(POD, {"status": {"phase": "Failed", "reason": "Evicted"}}).status == DEGRADED
    pulling = {"phase": "Pending", "containerStatuses": [{"name": "app", "state": {"waiting": {
        "reason": "ImagePullBackOff"}}}]}
    assert health(POD, {"status": pulling}).message == "container app: ImagePullBackOff"
    assert health(POD, {"status": pulling}).status == DEGRADED
    running = {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}
    assert health(POD, {"status": running}).status == HEALTHY


def test_a_suspended_job_is_suspended_until_resumed_and_a_finished_one_stays_finished() -> None:
    suspended = {"status": {"conditions": [{"type": "Suspended", "status": "True", "reason": "JobSuspended"}]}}
    assert health(JOB, suspended).status == SUSPENDED
    resumed = {"status": {"conditions": [{"type": "Suspended", "status": "False", "reason": "JobResumed"}]}}
    assert health(JOB, resumed).status == PROGRESSING
    done = {"status": {"conditions": [{"type": "Complete", "status": "True"},
                                      {"type": "Suspended", "status": "True"}]}}
    assert health(JOB, done).status == HEALTHY


def test_the_partition_message_names_the_declared_partition() -> None:
    sts = ObjectRef("apps/v1", "StatefulSet", "db", "apps")
    obj = {"metadata": {"generation": 2},
           "spec": {"replicas": 3, "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 2}}},
           "status": {"observedGeneration": 2, "replicas": 3, "updatedReplicas": 1, "readyReplicas": 3,
                      "availableReplicas": 3, "currentRevision": "db-1", "updateRevision": "db-2"}}
    assert health(sts, obj).message == "3/3 available, 1/3 updated (partition 2)"


def test_only_a_job_that_asks_to_be_removed_when_finished_may_go_missing() -> None:
    job = {"apiVersion": "batch/v1", "kind": "Job", "spec": {"ttlSecondsAfterFinished": 0}}
    assert removed_when_finished(job)
    assert not removed_when_finished({**job, "spec": {}})
    assert not removed_when_finished({**job, "kind": "CronJob"})
    assert not removed_when_finished({"apiVersion": "example.com/v1", "kind": "Job",
                                      "spec": {"ttlSecondsAfterFinished": 0}})


def test_f19f_an_older_stalled_alone_waits_and_a_newer_ready_decides() -> None:
    """atk19d 8: Stalled of an older generation says nothing; alone it is waiting, and a current Ready
    condition decides over it."""
    ref = ObjectRef("example.io/v1", "Release", "web", "apps")
    stale = {"type": "Stalled", "status": "True", "observedGeneration": 1, "reason": "InstallFailed"}
    alone = {"metadata": {"generation": 2}, "status": {"conditions": [stale]}}
    assert health(ref, alone).status == PROGRESSING
    ready = {"type": "Ready", "status": "True", "observedGeneration": 2, "reason": "Succeeded"}
    fixed = {"metadata": {"generation": 2}, "status": {"conditions": [stale, ready]}}
    assert health(ref, fixed).status == HEALTHY


@pytest.mark.parametrize("reason", ["Progressing", "Issuing", "DependencyNotReady", "Reconciling",
                                    "progressing", "Installing", "Upgrading", "Pending"])
def test_f19f_in_progress_reasons_stay_in_progress_in_any_case(reason: str) -> None:
    """atk19d 5: the failure words match in any case; the in-progress reasons must not."""
    ref = ObjectRef("example.io/v1", "Release", "web", "apps")
    obj = {"metadata": {"generation": 1}, "status": {"observedGeneration": 1, "conditions": [
        {"type": "Ready", "status": "False", "reason": reason, "message": "working"}]}}
    assert health(ref, obj).status == PROGRESSING


@pytest.mark.parametrize("reason", ["PreStartHookError", "RegistryUnavailable", "ErrSomethingNew",
                                    "SomeRuntimeError"])
def test_f19f_a_container_waiting_on_an_error_is_degraded(reason: str) -> None:
    """atk19d 10: the kubelet's start/image errors, and any reason of their shape."""
    ref = ObjectRef("v1", "Pod", "web", "apps")
    obj = {"status": {"phase": "Pending", "containerStatuses": [
        {"name": "app", "state": {"waiting": {"reason": reason}}}]}}
    assert health(ref, obj).status == DEGRADED


@pytest.mark.parametrize("reason", ["ContainerCreating", "PodInitializing"])
def test_f19f_a_container_being_created_is_in_progress(reason: str) -> None:
    ref = ObjectRef("v1", "Pod", "web", "apps")
    obj = {"status": {"phase": "Pending", "containerStatuses": [
        {"name": "app", "state": {"waiting": {"reason": reason}}}]}}
    assert health(ref, obj).status == PROGRESSING


def test_f19f_a_ttl_given_at_admission_counts_from_the_live_copy() -> None:
    """atk19d 6: the TTL on the live Job the reconciler last saw (a mutating webhook's default) says the
    cluster removes it when finished, as one written in Git does."""
    job = {"apiVersion": "batch/v1", "kind": "Job", "spec": {}}
    live = {**job, "spec": {"ttlSecondsAfterFinished": 0}}
    assert removed_when_finished(job, live)
    assert not removed_when_finished(job, job) and not removed_when_finished(job, None)
    assert not removed_when_finished({**job, "kind": "CronJob"}, live)
