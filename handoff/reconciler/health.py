"""Health of applied objects: rollout status for workloads, Job completion, Ready/Available conditions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from handoff.report.model import ObjectRef

HEALTHY, PROGRESSING, DEGRADED, UNKNOWN = "Healthy", "Progressing", "Degraded", "Unknown"
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
    else:
        want = int(spec.get("replicas", 1))
        updated = int(status.get("updatedReplicas", 0))
        ready = int(status.get("availableReplicas" if kind == "Deployment" else "readyReplicas", 0))
    if kind == "Deployment":
        progressing = _condition(status, "Progressing")
        if progressing and progressing.get("reason") == "ProgressDeadlineExceeded":
            return DEGRADED, str(progressing.get("message", "progress deadline exceeded"))
    if updated < want or ready < want:
        return PROGRESSING, f"{updated}/{want} updated, {ready}/{want} available"
    return HEALTHY, f"{ready}/{want} available"


def health(ref: ObjectRef, obj: Mapping[str, Any]) -> Health:
    kind = ref.kind
    status = obj.get("status") or {}
    if kind in _WORKLOADS:
        state, message = _workload(kind, obj)
        return Health(ref, state, message)
    if kind == "Job":
        if (c := _condition(status, "Failed")) and c.get("status") == "True":
            return Health(ref, DEGRADED, str(c.get("message", "job failed")))
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
