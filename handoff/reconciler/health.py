"""Health of applied objects: rollout status for workloads, Job completion, Ready/Available conditions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from handoff.report.model import ObjectRef

HEALTHY, PROGRESSING, DEGRADED, UNKNOWN = "Healthy", "Progressing", "Degraded", "Unknown"
# a rollout someone paused (a Deployment's spec.paused): it will not finish until they resume it
SUSPENDED = "Suspended"
_WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet"}
# Kinds that have no status to wait for: existing is healthy.
_STATIC = {"ConfigMap", "Secret", "Service", "ServiceAccount", "Role", "RoleBinding", "ClusterRole",
           "ClusterRoleBinding", "Namespace", "NetworkPolicy", "PodDisruptionBudget", "LimitRange",
           "ResourceQuota", "PriorityClass", "StorageClass", "Ingress"}


@dataclass(frozen=True)
class Health:
    ref: ObjectRef
    status: str
    message: str = ""


def _condition(status: Mapping[str, Any], kind: str) -> Mapping[str, Any] | None:
    return next((c for c in status.get("conditions") or [] if c.get("type") == kind), None)


def _workload(kind: str, obj: Mapping[str, Any]) -> tuple[str, str]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    generation = (obj.get("metadata") or {}).get("generation", 0)
    if status.get("observedGeneration", -1) < generation:
        return PROGRESSING, "waiting for the controller to observe the new generation"
    if kind == "DaemonSet":
        want = int(status.get("desiredNumberScheduled", 0))
        updated, ready = int(status.get("updatedNumberScheduled", 0)), int(status.get("numberAvailable", 0))
        total = int(status.get("currentNumberScheduled", want))
    else:
        want = int(spec.get("replicas", 1))
        updated = int(status.get("updatedReplicas", 0))
        # a StatefulSet reports availableReplicas (minReadySeconds honoured) only on newer clusters
        available = "availableReplicas" if kind == "Deployment" or "availableReplicas" in status \
            else "readyReplicas"
        ready = int(status.get(available, 0))
        total = int(status.get("replicas", want))
    if kind == "Deployment":
        progressing = _condition(status, "Progressing")
        if progressing and progressing.get("reason") == "ProgressDeadlineExceeded":
            return DEGRADED, str(progressing.get("message", "progress deadline exceeded"))
        if spec.get("paused") and (updated < want or ready < want or total > updated):
            return SUSPENDED, f"rollout paused: {updated}/{want} updated, {ready}/{want} available"
    if _on_delete(spec) and kind in ("StatefulSet", "DaemonSet"):
        return _on_delete_health(want, updated, ready)
    # a partitioned (canary) StatefulSet rollout is done once every pod above the partition is updated
    want_updated = max(0, want - _partition(spec)) if kind == "StatefulSet" else want
    if updated < want_updated or ready < want:
        return PROGRESSING, f"{updated}/{want_updated} updated, {ready}/{want} available"
    if want_updated < want:
        return HEALTHY, f"{ready}/{want} available, {updated} updated above partition {want - want_updated}"
    if total > updated:
        # the controller still counts pods of the previous revision (terminating or surplus)
        return PROGRESSING, f"{total - updated} old replicas pending termination"
    if kind == "StatefulSet" and _statefulset_revision_pending(spec, status):
        return PROGRESSING, "waiting for the StatefulSet to finish its rolling update"
    return HEALTHY, f"{ready}/{want} available"


def _on_delete(spec: Mapping[str, Any]) -> bool:
    return bool((spec.get("updateStrategy") or {}).get("type") == "OnDelete")


def _on_delete_health(want: int, updated: int, ready: int) -> tuple[str, str]:
    """OnDelete: the controller replaces no pod by itself, so a rollout is done once the new generation is
    observed (checked before) and every pod is ready; pods of the old template wait for someone to delete
    them (as kstatus and Argo CD see it)."""
    if ready < want:
        return PROGRESSING, f"{ready}/{want} available"
    waiting = max(0, want - updated)
    if waiting:
        return HEALTHY, f"{ready}/{want} available, {waiting} old pod(s) wait for deletion (OnDelete)"
    return HEALTHY, f"{ready}/{want} available"


def _partition(spec: Mapping[str, Any]) -> int:
    strategy = spec.get("updateStrategy") or {}
    if strategy.get("type", "RollingUpdate") != "RollingUpdate":
        return 0
    return int((strategy.get("rollingUpdate") or {}).get("partition", 0))


def _statefulset_revision_pending(spec: Mapping[str, Any], status: Mapping[str, Any]) -> bool:
    """True while an unpartitioned RollingUpdate has not moved currentRevision to updateRevision."""
    strategy = spec.get("updateStrategy") or {}
    if strategy.get("type", "RollingUpdate") != "RollingUpdate":
        return False
    update, current = status.get("updateRevision"), status.get("currentRevision")
    return bool(update) and update != current


def health(ref: ObjectRef, obj: Mapping[str, Any]) -> Health:
    kind = ref.kind
    status = obj.get("status") or {}
    if kind in _WORKLOADS:
        state, message = _workload(kind, obj)
        return Health(ref, state, message)
    if kind == "Job":
        # FailureTarget comes first (Kubernetes 1.31+): the Job has failed, its pods are still terminating
        for failed in ("Failed", "FailureTarget"):
            if (c := _condition(status, failed)) and c.get("status") == "True":
                return Health(ref, DEGRADED, str(c.get("message") or c.get("reason") or "job failed"))
        if (c := _condition(status, "Complete")) and c.get("status") == "True":
            return Health(ref, HEALTHY, "complete")
        return Health(ref, PROGRESSING, "running")
    if kind == "CustomResourceDefinition":
        c = _condition(status, "Established")
        return Health(ref, HEALTHY if c and c.get("status") == "True" else PROGRESSING)
    for cond in ("Ready", "Available"):
        c = _condition(status, cond)
        if c is not None:
            state = HEALTHY if c.get("status") == "True" else PROGRESSING if c.get("status") == "Unknown" \
                else DEGRADED
            return Health(ref, state, str(c.get("message", "")))
    return Health(ref, HEALTHY if kind in _STATIC else UNKNOWN)
