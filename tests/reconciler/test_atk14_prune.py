"""atk14: accidental deletion. Object identity must not depend on a field the API server ignores: a
cluster-scoped object that gains a ``metadata.namespace`` (kustomize's ``namespace:`` sets one on custom
resources of cluster-scoped CRDs, which it cannot tell from namespaced ones) is the same object (real
kube-apiserver + etcd and git server)."""

from __future__ import annotations

import contextlib
import uuid
from pathlib import Path
from typing import Any

import pytest

from handoff.reconciler.config import Authority

from .cluster import new_cluster

pytestmark = [pytest.mark.tools, pytest.mark.slow]

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: app}}\ndata: {{rev: \"{rev}\"}}\n"
RBAC = "rbac.authorization.k8s.io/v1"


def _role(name: str, namespace: str | None) -> str:
    ns = f", namespace: {namespace}" if namespace else ""
    return f"""apiVersion: {RBAC}
kind: ClusterRole
metadata: {{name: {name}{ns}}}
rules: [{{apiGroups: [""], resources: [configmaps], verbs: [get]}}]
"""


def test_a_cluster_scoped_object_that_gains_a_metadata_namespace_is_not_pruned(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    name = f"atk14-reader-{uuid.uuid4().hex[:6]}"
    c = new_cluster(apiserver, git_server, tmp_path, {"app/cm.yaml": CM.format(rev=1),
                                                      "app/role.yaml": _role(name, None)})
    rec = c.reconciler(renderer="plain", authority=Authority(namespaces=(c.target_ns,),
                                                             cluster_kinds=("ClusterRole",)))
    source = rec.settings.sources[0]
    first = rec.reconcile(source)
    assert first.ok, first.message
    uid = c.client.get(RBAC, "ClusterRole", name)["metadata"]["uid"]  # type: ignore[index]
    c.repo.commit({"app/cm.yaml": CM.format(rev=2), "app/role.yaml": _role(name, c.target_ns)},
                  "the same ClusterRole, now with a metadata.namespace")
    second = rec.reconcile(source)
    try:
        assert second.ok, second.message
        live = c.client.get(RBAC, "ClusterRole", name)
        assert live is not None, f"the ClusterRole was pruned though it is still in the render ({second.message})"
        assert live["metadata"]["uid"] == uid
    finally:
        with contextlib.suppress(Exception):  # cleanup only
            c.client.request("DELETE", f"/apis/{RBAC}/clusterroles/{name}")
