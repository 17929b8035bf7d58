"""Health of applied objects: rollout status for workloads, Job completion, Pod phase, and for everything
else the kstatus conventions (observedGeneration, Stalled, Reconciling) and the Ready/Available condition."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from handoff.report.model import ObjectRef

HEALTHY, PROGRESSING, DEGRADED, UNKNOWN = "Healthy", "Progressing", "Degraded", "Unknown"
# a rollout someone paused (a Deployment's spec.paused, a Job's spec.suspend): it will not finish until
# they resume it
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
        held = f"{min(updated, want)}/{want} updated (partition {_partition(spec)})"
        return HEALTHY, f"{ready}/{want} available, {held}"
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
        return Health(ref, *_job(status))
    if kind == "Pod":
        return Health(ref, *_pod(status))
    if kind == "CustomResourceDefinition":
        c = _condition(status, "Established")
        return Health(ref, HEALTHY if c and c.get("status") == "True" else PROGRESSING)
    state, message = _generic(obj)
    if state == UNKNOWN and kind in _STATIC:
        return Health(ref, HEALTHY)
    return Health(ref, state, message)


def _job(status: Mapping[str, Any]) -> tuple[str, str]:
    # FailureTarget comes first (Kubernetes 1.31+): the Job has failed, its pods are still terminating
    for failed in ("Failed", "FailureTarget"):
        if (c := _condition(status, failed)) and c.get("status") == "True":
            return DEGRADED, str(c.get("message") or c.get("reason") or "job failed")
    if (c := _condition(status, "Complete")) and c.get("status") == "True":
        return HEALTHY, "complete"
    if (c := _condition(status, "Suspended")) and c.get("status") == "True":
        return SUSPENDED, "job suspended: it runs no pod until spec.suspend is false"
    return PROGRESSING, "running"


# waiting reasons of a container that will not start by itself (kstatus calls these Failed): the
# kubelet's image errors (pkg/kubelet/images) and kuberuntime's start errors; any other reason of the
# same shape (Err*, *Error, *BackOff, as Argo CD reads them) is one too. ContainerCreating and
# PodInitializing are the waiting reasons of a container on its way.
_CONTAINER_FAILURES = {"CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull", "ErrImageNeverPull",
                       "ImageInspectError", "InvalidImageName", "RegistryUnavailable",
                       "SignatureValidationFailed", "CreateContainerConfigError", "CreateContainerError",
                       "PreCreateHookError", "PreStartHookError", "PostStartHookError", "RunContainerError",
                       "VerifyNonRootError", "RunInitContainerError", "CreatePodSandboxError",
                       "ConfigPodSandboxError"}
_CONTAINER_FAILURE_SHAPE = re.compile(r"^Err|Error$|BackOff$")


def _pod(status: Mapping[str, Any]) -> tuple[str, str]:
    """As kstatus reads a Pod: Succeeded or Ready is done, Failed or a container stuck in a back-off is a
    failure, anything else (Pending, unschedulable for now, running but not Ready yet) is in progress."""
    phase = status.get("phase", "")
    if phase == "Succeeded":
        return HEALTHY, "succeeded"
    if phase == "Failed":
        return DEGRADED, str(status.get("message") or status.get("reason") or "pod failed")
    for container in [*(status.get("initContainerStatuses") or []), *(status.get("containerStatuses") or [])]:
        waiting = (container.get("state") or {}).get("waiting") or {}
        reason = str(waiting.get("reason") or "")
        if reason in _CONTAINER_FAILURES or _CONTAINER_FAILURE_SHAPE.search(reason):
            return DEGRADED, f"container {container.get('name')}: {waiting['reason']}"
    if (c := _condition(status, "Ready")) and c.get("status") == "True":
        return HEALTHY, "ready"
    return PROGRESSING, f"{phase or 'Pending'}, not ready yet"


# a Ready=False reason that says the object failed rather than that it is still on its way
_FAILURE_REASON = re.compile(r"Fail|Error|Invalid|NotFound|Exceeded|BackOff|Crash|Denied|Forbidden"
                             r"|Unauthorized|Rejected|Conflict|Missing|Unavailable|Expired|Timeout|TimedOut"
                             r"|Unhealthy|Stalled", re.IGNORECASE)


def _generic(obj: Mapping[str, Any]) -> tuple[str, str]:
    """kstatus's generic rules, then the Ready (or Available) condition: a status of an older generation
    says nothing yet; Stalled=True fails, Reconciling=True is in progress; Ready=False fails only when it
    gives no reason or its reason names a failure (Flux and cert-manager say Ready=False reason
    Progressing/Issuing while they work)."""
    status = obj.get("status") or {}
    generation = (obj.get("metadata") or {}).get("generation")
    observed = status.get("observedGeneration")
    if isinstance(generation, int) and isinstance(observed, int) and observed < generation:
        return PROGRESSING, f"waiting for the controller to observe generation {generation}"
    waiting = PROGRESSING, f"waiting for the controller to observe generation {generation}"
    stale_seen = False
    for name, verdict in (("Stalled", DEGRADED), ("Reconciling", PROGRESSING)):
        if (c := _condition(status, name)) and c.get("status") == "True":
            if _older_generation(c, generation):  # of the old spec: Ready/Available may be newer
                stale_seen = True
                continue
            return verdict, str(c.get("message") or c.get("reason") or name.lower())
    for name in ("Ready", "Available"):
        c = _condition(status, name)
        if c is None:
            continue
        message = str(c.get("message", ""))
        if _older_generation(c, generation):
            return waiting
        if c.get("status") == "True":
            return HEALTHY, message
        reason = str(c.get("reason") or "")
        if c.get("status") == "False" and (not reason or _FAILURE_REASON.search(reason)):
            return DEGRADED, message or reason
        return PROGRESSING, message or reason
    return waiting if stale_seen else (UNKNOWN, "")


def _older_generation(condition: Mapping[str, Any], generation: object) -> bool:
    """A condition stamped with an older generation (metav1.Condition.observedGeneration) says nothing
    about the current spec yet."""
    observed = condition.get("observedGeneration")
    return isinstance(generation, int) and isinstance(observed, int) and observed < generation
