"""atk14: attacks on the per-source authority and the guard of the reconciler's own objects (real
kube-apiserver + etcd and git server). Each test states what should hold; they fail while the hole is open."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest

from handoff.reconciler.config import Authority
from handoff.reconciler.manifests import APP
from handoff.reconciler.status import REFUSED

from .cluster import new_cluster

pytestmark = [pytest.mark.tools, pytest.mark.slow]

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: app}}\ndata: {{rev: \"{rev}\"}}\n"
RBAC = "rbac.authorization.k8s.io/v1"


def _binding(name: str, namespace: str) -> str:
    # a cluster-scoped kind with a metadata.namespace: the API server ignores (clears) it
    return f"""apiVersion: {RBAC}
kind: ClusterRoleBinding
metadata: {{name: {name}, namespace: {namespace}}}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}}
subjects: [{{kind: ServiceAccount, name: default, namespace: {namespace}}}]
"""


def test_a_cluster_scoped_object_with_a_metadata_namespace_is_outside_the_default_grant(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    """Default grant: the source's namespace and that Namespace only. A ClusterRoleBinding to cluster-admin
    is cluster-scoped whatever ``metadata.namespace`` says; writing ``namespace: <own ns>`` on it must not
    turn it into a namespaced object of the granted namespace."""
    c = new_cluster(apiserver, git_server, tmp_path, {"app/cm.yaml": CM.format(rev=1)})
    rec = c.reconciler(renderer="plain")  # no authority: the default grant
    source = rec.settings.sources[0]
    assert rec.reconcile(source).ok
    name = f"atk14-{c.target_ns}"
    c.repo.commit({"app/cm.yaml": CM.format(rev=2), "app/crb.yaml": _binding(name, c.target_ns)}, "escalate")
    result = rec.reconcile(source)
    try:
        assert c.client.get(RBAC, "ClusterRoleBinding", name) is None, \
            "a ClusterRoleBinding to cluster-admin was applied under the default grant"
        assert result.result == REFUSED, result.message
        assert f"ClusterRoleBinding/{name}" in result.message
        cm = c.get("v1", "ConfigMap", "app")
        assert cm is not None and cm["data"]["rev"] == "1"
    finally:
        _delete(c.client, f"/apis/{RBAC}/clusterrolebindings/{name}")


def test_a_namespaced_looking_copy_of_the_reconcilers_clusterrole_is_refused_as_its_own(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    """The guard: no source may apply the cluster-scoped ``handoff-reconciler*`` ClusterRole(Binding)s,
    whatever its grant. Setting ``metadata.namespace`` on the ClusterRole must not hide it from the guard."""
    c = new_cluster(apiserver, git_server, tmp_path, {"app/cm.yaml": CM.format(rev=1)})
    # an operator grant that allows cluster RBAC in general (e.g. a platform repo), but never the reconciler's
    rec = c.reconciler(renderer="plain", authority=Authority(namespaces=(c.target_ns,),
                                                             cluster_kinds=("ClusterRole",)))
    source = rec.settings.sources[0]
    assert rec.reconcile(source).ok
    name = f"handoff-reconciler-atk14{c.target_ns[-6:]}"
    role = f"""apiVersion: {RBAC}
kind: ClusterRole
metadata: {{name: {name}, namespace: {c.target_ns}}}
rules: [{{apiGroups: ["*"], resources: ["*"], verbs: ["*"]}}]
"""
    c.repo.commit({"app/cm.yaml": CM.format(rev=2), "app/role.yaml": role}, "widen the reconciler")
    result = rec.reconcile(source)
    try:
        assert c.client.get(RBAC, "ClusterRole", name) is None, \
            "the reconciler's own ClusterRole name was applied by a repo"
        assert result.result == REFUSED and "reconciler's own objects" in result.message, result.message
    finally:
        _delete(c.client, f"/apis/{RBAC}/clusterroles/{name}")


def _delete(client: Any, path: str) -> None:
    with contextlib.suppress(Exception):  # cleanup only
        client.request("DELETE", path)


def test_a_source_never_prunes_a_cluster_scoped_object_it_was_never_granted(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    """An operator's ClusterRole exists. A repo under the default grant names it (with a metadata.namespace),
    then drops it: the ClusterRole must survive both commits with its own rules."""
    c = new_cluster(apiserver, git_server, tmp_path, {"app/cm.yaml": CM.format(rev=1)})
    victim = f"atk14-victim-{c.target_ns}"
    c.client.apply({"apiVersion": RBAC, "kind": "ClusterRole", "metadata": {"name": victim},
                    "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]})
    rec = c.reconciler(renderer="plain")
    source = rec.settings.sources[0]
    assert rec.reconcile(source).ok
    c.repo.commit({"app/cm.yaml": CM.format(rev=2), "app/role.yaml": f"""apiVersion: {RBAC}
kind: ClusterRole
metadata: {{name: {victim}, namespace: {c.target_ns}}}
rules: [{{apiGroups: [""], resources: [configmaps], verbs: [get]}}]
"""}, "adopt the operator's ClusterRole")
    rec.reconcile(source)
    c.repo.commit({"app/role.yaml": None, "app/cm.yaml": CM.format(rev=3)}, "drop it")
    third = rec.reconcile(source)
    try:
        live = c.client.get(RBAC, "ClusterRole", victim)
        assert live is not None, f"a source pruned a ClusterRole outside its grant ({third.message})"
        assert live["rules"] == [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]
    finally:
        _delete(c.client, f"/apis/{RBAC}/clusterroles/{victim}")


def test_a_pod_running_as_the_reconcilers_service_account_is_refused(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    """An operator grant of every namespace that denies cluster RBAC: a Pod in the reconciler's namespace
    running as the reconciler's own ServiceAccount would hold the reconciler's (cluster-wide) rights, more
    than the grant. A source may not use the reconciler's identity."""
    c = new_cluster(apiserver, git_server, tmp_path, {"app/cm.yaml": CM.format(rev=1)})
    c.client.apply({"apiVersion": "v1", "kind": "ServiceAccount",
                    "metadata": {"name": APP, "namespace": c.control_ns}})
    rec = c.reconciler(renderer="plain", authority=Authority(namespaces=("*",), denied_namespaces=("kube-system",),
                                                             denied_kinds=("ClusterRoleBinding", "RoleBinding")))
    source = rec.settings.sources[0]
    assert rec.reconcile(source).ok
    c.repo.commit({"app/cm.yaml": CM.format(rev=2), "app/pod.yaml": f"""apiVersion: v1
kind: Pod
metadata: {{name: borrow, namespace: {c.control_ns}}}
spec:
  serviceAccountName: {APP}
  securityContext: {{runAsNonRoot: true}}
  containers:
    - name: main
      image: registry.example/kubectl@sha256:{"0" * 64}
      imagePullPolicy: IfNotPresent
      securityContext: {{allowPrivilegeEscalation: false}}
      resources: {{requests: {{cpu: 100m, memory: 64Mi}}, limits: {{cpu: 200m, memory: 128Mi}}}}
      livenessProbe: {{exec: {{command: ["true"]}}}}
      readinessProbe: {{exec: {{command: ["true"]}}}}
"""}, "run as the reconciler")
    result = rec.reconcile(source)
    assert c.client.get("v1", "Pod", "borrow", c.control_ns) is None, \
        f"a Pod running as the reconciler's ServiceAccount was applied: {result.message}"
    assert result.result == REFUSED, result.message
