"""atk14: tenancy of Source objects (handoff.dev/v1). A Source in namespace N may touch N only, no
cluster-scoped kinds, and never the reconciler's own objects (real kube-apiserver + etcd and git server)."""

from __future__ import annotations

import base64
import contextlib
from typing import Any

import pytest

from handoff.cli import main

from .cluster import Cluster
from .test_source_crd_live import cluster, ready, source_object  # noqa: F401 - fixture

pytestmark = [pytest.mark.tools, pytest.mark.slow]

PSA = "pod-security.kubernetes.io/enforce"


def _once(c: Cluster, apiserver: Any) -> int:
    return main(["reconcile", "--sources-from", "crd", "--allow-private-hosts", "--once",
                 "--kubeconfig", str(apiserver.kubeconfig),
                 "--namespace", c.control_ns, "--workdir", str(c.workdir), "--watch-namespace", c.target_ns])


def test_a_tenant_source_cannot_relabel_the_reconcilers_namespace_by_giving_it_a_namespace(
        cluster: Cluster, apiserver: Any, capsys: Any) -> None:  # noqa: F811
    """A Namespace is cluster-scoped: ``metadata.namespace`` on it is ignored by the API server. A tenant's
    revision naming the reconciler's own Namespace (to lift its Pod Security level) must be refused, and
    the Source must say so (Ready=False), not succeed."""
    c = cluster
    c.client.apply({"apiVersion": "v1", "kind": "Namespace",
                    "metadata": {"name": c.control_ns, "labels": {PSA: "restricted"}}})
    c.repo.commit({"psa/ns.yaml": f"""apiVersion: v1
kind: Namespace
metadata:
  name: {c.control_ns}
  namespace: {c.target_ns}
  labels: {{{PSA}: privileged}}
"""}, "lift the reconciler's namespace to privileged")
    c.client.create(source_object(c, path="psa"))
    _once(c, apiserver)
    out = capsys.readouterr().out
    labels = (c.client.get("v1", "Namespace", c.control_ns) or {}).get("metadata", {}).get("labels") or {}
    assert labels.get(PSA) == "restricted", f"a tenant Source relabelled the reconciler's namespace: {out}"
    condition = ready(c)
    assert condition is not None and condition["status"] == "False", (condition, out)


def test_a_tenant_source_cannot_bind_cluster_admin_with_a_namespaced_looking_binding(
        cluster: Cluster, apiserver: Any, capsys: Any) -> None:  # noqa: F811
    c = cluster
    name = f"atk14-{c.target_ns}"
    c.repo.commit({"crb/crb.yaml": f"""apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {{name: {name}, namespace: {c.target_ns}}}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}}
subjects: [{{kind: ServiceAccount, name: default, namespace: {c.target_ns}}}]
"""}, "cluster-admin for the tenant")
    c.client.create(source_object(c, path="crb"))
    _once(c, apiserver)
    out = capsys.readouterr().out
    try:
        assert c.client.get("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", name) is None, \
            f"a tenant Source bound cluster-admin: {out}"
        condition = ready(c)
        assert condition is not None and condition["reason"] == "AuthorityDenied", (condition, out)
    finally:
        with contextlib.suppress(Exception):  # cleanup only
            c.client.request("DELETE", f"/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/{name}")


def test_a_source_object_in_the_reconcilers_namespace_is_granted_nothing_there(
        cluster: Cluster, apiserver: Any, capsys: Any) -> None:  # noqa: F811
    """docs/reconciler.md (Tenancy): "the reconciler's own namespace is always denied". Without a tenants
    file, a Source created in that namespace gets the default grant of its own namespace, which is it."""
    c = cluster
    c.client.apply({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "git", "namespace": c.control_ns},
                    "data": {"token": base64.b64encode(c.token_file.read_bytes()).decode(),
                             "username": base64.b64encode(c.username.encode()).decode()}})
    c.repo.commit({"plant/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: planted}\ndata: {a: b}\n"},
                  "plant an object in the reconciler's namespace")
    obj = source_object(c, path="plant")
    obj["metadata"]["namespace"] = c.control_ns
    c.client.create(obj)
    main(["reconcile", "--sources-from", "crd", "--allow-private-hosts", "--once",
          "--kubeconfig", str(apiserver.kubeconfig),
          "--namespace", c.control_ns, "--workdir", str(c.workdir), "--watch-namespace", c.control_ns])
    out = capsys.readouterr().out
    assert c.client.get("v1", "ConfigMap", "planted", c.control_ns) is None, \
        f"a Source in the reconciler's namespace applied into it: {out}"
