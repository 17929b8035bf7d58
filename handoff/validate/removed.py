"""APIs the Kubernetes project removed, so a manifest using one fails with the replacement named,
not with a bare "no schema" (the Kubernetes deprecation guide is the source)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RemovedApi:
    removed_in: str
    replacement: str  # "" when there is none


_WORKLOADS = ("Deployment", "DaemonSet", "ReplicaSet", "StatefulSet", "ControllerRevision")

REMOVED: dict[tuple[str, str], RemovedApi] = {
    **{("extensions/v1beta1", k): RemovedApi("1.16", "apps/v1") for k in _WORKLOADS},
    **{("apps/v1beta1", k): RemovedApi("1.16", "apps/v1") for k in _WORKLOADS},
    **{("apps/v1beta2", k): RemovedApi("1.16", "apps/v1") for k in _WORKLOADS},
    ("extensions/v1beta1", "NetworkPolicy"): RemovedApi("1.16", "networking.k8s.io/v1"),
    ("extensions/v1beta1", "PodSecurityPolicy"): RemovedApi("1.16", ""),
    ("extensions/v1beta1", "Ingress"): RemovedApi("1.22", "networking.k8s.io/v1"),
    ("networking.k8s.io/v1beta1", "Ingress"): RemovedApi("1.22", "networking.k8s.io/v1"),
    ("networking.k8s.io/v1beta1", "IngressClass"): RemovedApi("1.22", "networking.k8s.io/v1"),
    ("apiextensions.k8s.io/v1beta1", "CustomResourceDefinition"):
        RemovedApi("1.22", "apiextensions.k8s.io/v1"),
    ("apiregistration.k8s.io/v1beta1", "APIService"): RemovedApi("1.22", "apiregistration.k8s.io/v1"),
    ("admissionregistration.k8s.io/v1beta1", "MutatingWebhookConfiguration"):
        RemovedApi("1.22", "admissionregistration.k8s.io/v1"),
    ("admissionregistration.k8s.io/v1beta1", "ValidatingWebhookConfiguration"):
        RemovedApi("1.22", "admissionregistration.k8s.io/v1"),
    ("certificates.k8s.io/v1beta1", "CertificateSigningRequest"):
        RemovedApi("1.22", "certificates.k8s.io/v1"),
    ("coordination.k8s.io/v1beta1", "Lease"): RemovedApi("1.22", "coordination.k8s.io/v1"),
    **{("rbac.authorization.k8s.io/v1beta1", k): RemovedApi("1.22", "rbac.authorization.k8s.io/v1")
       for k in ("Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding")},
    ("scheduling.k8s.io/v1beta1", "PriorityClass"): RemovedApi("1.22", "scheduling.k8s.io/v1"),
    **{("storage.k8s.io/v1beta1", k): RemovedApi("1.22", "storage.k8s.io/v1")
       for k in ("CSIDriver", "CSINode", "StorageClass", "VolumeAttachment")},
    ("storage.k8s.io/v1beta1", "CSIStorageCapacity"): RemovedApi("1.27", "storage.k8s.io/v1"),
    ("batch/v1beta1", "CronJob"): RemovedApi("1.25", "batch/v1"),
    ("discovery.k8s.io/v1beta1", "EndpointSlice"): RemovedApi("1.25", "discovery.k8s.io/v1"),
    ("events.k8s.io/v1beta1", "Event"): RemovedApi("1.25", "events.k8s.io/v1"),
    ("autoscaling/v2beta1", "HorizontalPodAutoscaler"): RemovedApi("1.25", "autoscaling/v2"),
    ("autoscaling/v2beta2", "HorizontalPodAutoscaler"): RemovedApi("1.26", "autoscaling/v2"),
    ("policy/v1beta1", "PodDisruptionBudget"): RemovedApi("1.25", "policy/v1"),
    ("policy/v1beta1", "PodSecurityPolicy"): RemovedApi("1.25", ""),
    ("node.k8s.io/v1beta1", "RuntimeClass"): RemovedApi("1.25", "node.k8s.io/v1"),
    **{(f"flowcontrol.apiserver.k8s.io/{v}", k): RemovedApi(r, "flowcontrol.apiserver.k8s.io/v1")
       for v, r in (("v1beta1", "1.26"), ("v1beta2", "1.29"), ("v1beta3", "1.32"))
       for k in ("FlowSchema", "PriorityLevelConfiguration")},
}


def removed_message(api_version: str, kind: str) -> str | None:
    """``apps/v1beta2 Deployment was removed in Kubernetes 1.16: use apps/v1`` or None."""
    removed = REMOVED.get((api_version, kind))
    if removed is None:
        return None
    instead = f"use {removed.replacement}" if removed.replacement else "it has no replacement"
    if kind == "PodSecurityPolicy":
        instead = "use Pod Security Admission (namespace labels) instead"
    return f"{api_version} {kind} was removed in Kubernetes {removed.removed_in}: {instead}"
