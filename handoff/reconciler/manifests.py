"""The reconciler's own install manifests: ``handoff reconciler manifests | kubectl apply -f -``."""

from __future__ import annotations

import re
from typing import Any

from handoff import __version__
from handoff.errors import UsageError
from handoff.imageref import parse as parse_image
from handoff.reconciler.sourcecrd import GROUP, PLURAL, crd

APP = "handoff-reconciler"
GIT_CREDENTIALS_SECRET = "handoff-git-credentials"  # noqa: S105 - a Secret's name, not a password
DEFAULT_IMAGE = f"ghcr.io/handoff-dev/handoff:{__version__}"
_APPLY_VERBS = ["get", "list", "watch", "create", "update", "patch", "delete"]
# The default grant: the kinds an application ships, and nothing that widens rights or reaches into other
# workloads (no RBAC, admission webhooks, CRDs, nodes, certificates, storage classes, API services).
_WORKLOAD_RESOURCES = {
    "": ["configmaps", "secrets", "services", "serviceaccounts", "persistentvolumeclaims", "pods",
         "limitranges", "resourcequotas"],
    "apps": ["deployments", "statefulsets", "daemonsets", "replicasets"],
    "batch": ["jobs", "cronjobs"],
    "autoscaling": ["horizontalpodautoscalers"],
    "policy": ["poddisruptionbudgets"],
    "networking.k8s.io": ["ingresses", "networkpolicies"],
}
PRESETS = ("workloads", "cluster-admin")  # what the apply Role/ClusterRole grants
_METRICS_PORT = 8080
_TMP = "/tmp"  # noqa: S108 - an emptyDir in the pod, the root filesystem is read-only


def _labels() -> dict[str, str]:
    return {"app.kubernetes.io/name": APP, "app.kubernetes.io/part-of": "handoff"}


def _own_rules() -> list[dict[str, Any]]:
    """What the reconciler needs in its own namespace: its Lease, inventory/status ConfigMaps, Events."""
    return [
        {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"],
         "verbs": ["get", "create", "update"]},
        {"apiGroups": [""], "resources": ["configmaps"],
         "verbs": ["get", "list", "create", "update", "patch"]},
        {"apiGroups": [""], "resources": ["events"], "verbs": ["create", "patch"]},
    ]


def source_rules() -> list[dict[str, Any]]:
    """Watch Source objects, write their status and finalizers, read the Secrets they reference and record
    Events on them."""
    return [
        {"apiGroups": [GROUP], "resources": [PLURAL], "verbs": ["get", "list", "watch", "patch", "update"]},
        {"apiGroups": [GROUP], "resources": [f"{PLURAL}/status", f"{PLURAL}/finalizers"],
         "verbs": ["get", "patch", "update"]},
        {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list", "watch"]},
        # Events on the Source objects, in their namespaces; a repeat is counted on the first (get, patch)
        {"apiGroups": [""], "resources": ["events"], "verbs": ["get", "create", "patch"]},
    ]


def _config(namespace: str, target: str) -> str:
    return (f"namespace: {namespace}\n"
            "sources:\n"
            "  - name: example\n"
            "    url: https://git.example.com/org/config.git\n"
            "    branch: main\n"
            "    path: envs/prod\n"
            f"    namespace: {target}\n"
            "    interval: 1m\n"
            "    credentials: {tokenFile: /etc/handoff/git/token}\n"
            "prune: {maxFraction: 0.5, minInventory: 10}\n")


def apply_rules(preset: str, *, cluster_wide: bool) -> list[dict[str, Any]]:
    """``workloads`` (default): application kinds only, plus Namespaces cluster-wide; ``cluster-admin``:
    every kind (``*/*``), only when the operator asks for it."""
    if preset == "cluster-admin":
        return [{"apiGroups": ["*"], "resources": ["*"], "verbs": _APPLY_VERBS}]
    if preset != "workloads":
        raise UsageError(f"unknown preset {preset!r} (choose one of {', '.join(PRESETS)})", key="--preset")
    rules = [{"apiGroups": [group], "resources": resources, "verbs": _APPLY_VERBS}
             for group, resources in _WORKLOAD_RESOURCES.items()]
    if cluster_wide:
        rules.append({"apiGroups": [""], "resources": ["namespaces"], "verbs": _APPLY_VERBS})
    return rules


def impersonation_objects(namespace: str, service_accounts: tuple[str, ...]) -> list[dict[str, Any]]:
    """``impersonate`` on exactly the ServiceAccounts ``NS/NAME`` sources name (a Role per namespace, as a
    ClusterRole's ``resourceNames`` would match that name in every namespace) and on exactly the groups the
    reconciler sends with them (``groups`` are cluster-scoped: a ClusterRole)."""
    by_namespace: dict[str, list[str]] = {}
    for sa in service_accounts:
        ns, _, name = sa.partition("/")
        if not name or not re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", ns) or "/" in name:
            raise UsageError(f"--impersonate {sa!r} is not NAMESPACE/NAME", key="--impersonate")
        by_namespace.setdefault(ns, []).append(name)
    labels = _labels()
    name = f"{APP}-impersonate"
    subjects = [{"kind": "ServiceAccount", "name": APP, "namespace": namespace}]
    objs: list[dict[str, Any]] = []
    for ns, names in sorted(by_namespace.items()):
        meta = {"name": name, "namespace": ns, "labels": labels}
        objs += [
            {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": meta,
             "rules": [{"apiGroups": [""], "resources": ["serviceaccounts"], "verbs": ["impersonate"],
                        "resourceNames": sorted(set(names))}]},
            {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": meta,
             "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
             "subjects": subjects},
        ]
    groups = ["system:authenticated", "system:serviceaccounts",
              *(f"system:serviceaccounts:{ns}" for ns in sorted(by_namespace))]
    objs += [
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
         "metadata": {"name": name, "labels": labels},
         "rules": [{"apiGroups": [""], "resources": ["groups"], "verbs": ["impersonate"],
                    "resourceNames": groups}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
         "metadata": {"name": name, "labels": labels},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
         "subjects": subjects},
    ]
    return objs


def manifests(namespace: str = "handoff-system", *, cluster_wide: bool = True,
              image: str = DEFAULT_IMAGE, preset: str = "workloads",
              impersonate: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Namespace, ServiceAccount, least-privilege RBAC, ConfigMap, Deployment and metrics Service.

    Cluster-wide, the reconciler manages the kinds of ``preset`` in every namespace and never impersonates,
    escalates or binds. Namespaced, it manages them in its own namespace only.
    """
    # both are written into YAML text (the embedded config.yaml) and the cluster: check them first
    if not re.fullmatch(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", namespace):
        raise UsageError(f"namespace {namespace!r} is not a DNS label", key="--namespace")
    parse_image(image)
    labels = _labels()
    meta = {"namespace": namespace, "labels": labels}
    # namespaced, the reconciler cannot manage a Namespace: the team's namespace exists already
    objs: list[dict[str, Any]] = [crd()] if cluster_wide else []
    objs += [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace, "labels": {
            **labels, "pod-security.kubernetes.io/enforce": "restricted"}}},
    ] if cluster_wide else []
    objs += [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": APP, **meta}},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
         "metadata": {"name": f"{APP}-self", **meta}, "rules": _own_rules()},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
         "metadata": {"name": f"{APP}-self", **meta},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": f"{APP}-self"},
         "subjects": [{"kind": "ServiceAccount", "name": APP, "namespace": namespace}]},
    ]
    rules = apply_rules(preset, cluster_wide=cluster_wide)
    if preset != "cluster-admin":  # ``*/*`` covers them already
        rules += source_rules()
    if cluster_wide:
        objs += [
            {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
             "metadata": {"name": APP, "labels": labels}, "rules": rules},
            {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
             "metadata": {"name": APP, "labels": labels},
             "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": APP},
             "subjects": [{"kind": "ServiceAccount", "name": APP, "namespace": namespace}]},
        ]
    else:
        objs += [
            {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
             "metadata": {"name": f"{APP}-apply", **meta}, "rules": rules},
            {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
             "metadata": {"name": f"{APP}-apply", **meta},
             "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": f"{APP}-apply"},
             "subjects": [{"kind": "ServiceAccount", "name": APP, "namespace": namespace}]},
        ]
    if impersonate:
        if not cluster_wide:
            raise UsageError("impersonating a ServiceAccount sends its groups, which only cluster RBAC can "
                             "grant: use --cluster-wide with --impersonate", key="--impersonate")
        objs += impersonation_objects(namespace, impersonate)
    objs.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"{APP}-config", **meta},
                 "data": {"config.yaml": _config(namespace, "default" if cluster_wide else namespace)}})
    objs.append(_deployment(namespace, labels, image, cluster_wide=cluster_wide))
    objs.append({"apiVersion": "v1", "kind": "Service", "metadata": {"name": f"{APP}-metrics", **meta},
                 "spec": {"selector": labels, "ports": [{"name": "metrics", "port": _METRICS_PORT,
                                                         "targetPort": "metrics", "protocol": "TCP"}]}})
    return objs


def _deployment(namespace: str, labels: dict[str, str], image: str, *, cluster_wide: bool) -> dict[str, Any]:
    probe = {"httpGet": {"path": "/healthz", "port": "metrics"}, "periodSeconds": 10}
    # cluster-wide, the CRD is in the same output: serve the config file's sources and the Source objects;
    # namespaced, the CRD may not be installed (a cluster admin's), so the config file only
    sources_from = ["--sources-from", "both"] if cluster_wide else ["--sources-from", "config"]
    container = {
        "name": "reconciler", "image": image, "imagePullPolicy": "Always",
        "args": ["reconcile", "--config", "/etc/handoff/config/config.yaml", *sources_from,
                 "--workdir", "/var/cache/handoff", "--metrics-addr", f":{_METRICS_PORT}"],
        "env": [{"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                {"name": "HOME", "value": _TMP}],
        "ports": [{"name": "metrics", "containerPort": _METRICS_PORT, "protocol": "TCP"}],
        "livenessProbe": probe,
        "readinessProbe": {**probe, "httpGet": {"path": "/readyz", "port": "metrics"}},
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"},
                      "limits": {"cpu": "1", "memory": "256Mi"}},
        "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                            "runAsNonRoot": True, "runAsUser": 65532, "runAsGroup": 65532,
                            "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}},
        "volumeMounts": [{"name": "config", "mountPath": "/etc/handoff/config", "readOnly": True},
                         {"name": "git-credentials", "mountPath": "/etc/handoff/git", "readOnly": True},
                         {"name": "cache", "mountPath": "/var/cache/handoff"},
                         {"name": "tmp", "mountPath": _TMP}],
    }
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": APP, "namespace": namespace, "labels": labels},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "serviceAccountName": APP, "automountServiceAccountToken": True,
                    "securityContext": {"runAsNonRoot": True, "fsGroup": 65532,
                                        "seccompProfile": {"type": "RuntimeDefault"}},
                    "containers": [container],
                    "volumes": [
                        {"name": "config", "configMap": {"name": f"{APP}-config"}},
                        {"name": "git-credentials", "secret": {"secretName": GIT_CREDENTIALS_SECRET,
                                                               "optional": True}},
                        {"name": "cache", "emptyDir": {"sizeLimit": "1Gi"}},
                        {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}},
                    ],
                },
            },
        },
    }
