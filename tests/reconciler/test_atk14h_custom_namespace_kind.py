"""atk14h: namespaces.ensure_targets counts any object of kind ``Namespace`` as adding that namespace,
whatever its group. A custom resource of kind Namespace (group example.com) named like a missing namespace
hides that namespace from the one-line check: the pass must still fail with "namespace X does not exist;
run: kubectl create namespace X" and apply nothing. Real kube-apiserver + etcd and git server."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from handoff.reconciler.config import Authority
from handoff.reconciler.status import FAILED

from .cluster import new_cluster


def _crd() -> dict[str, Any]:
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": "namespaces.atk14h.example.com"},
            "spec": {"group": "atk14h.example.com", "scope": "Namespaced",
                     "names": {"kind": "Namespace", "plural": "namespaces", "singular": "namespace"},
                     "versions": [{"name": "v1", "served": True, "storage": True, "schema": {
                         "openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}}]}}


@pytest.mark.tools
@pytest.mark.slow
def test_a_custom_kind_named_namespace_does_not_hide_a_missing_namespace(apiserver: Any, git_server: Any,
                                                                        tmp_path: Path) -> None:
    other = f"t-{uuid.uuid4().hex[:8]}"
    files = {
        "app/a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {k: v}\n",
        "app/ns.yaml": f"apiVersion: atk14h.example.com/v1\nkind: Namespace\nmetadata: {{name: {other}}}\n",
        "app/b.yaml": f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: b, namespace: {other}}}\n"
                      "data: {k: v}\n",
    }
    files["app/crd.yaml"] = json.dumps(_crd())
    c = new_cluster(apiserver, git_server, tmp_path, files)
    rec = c.reconciler(renderer="plain",
                       authority=Authority(namespaces=(c.target_ns, other), cluster_kinds=("Namespace", "CustomResourceDefinition")))
    result = rec.reconcile(rec.settings.sources[0])
    assert result.result == FAILED, result.message
    assert c.get("v1", "ConfigMap", "a") is None, "nothing of the revision is applied"
    assert c.client.get("apiextensions.k8s.io/v1", "CustomResourceDefinition",
                        "namespaces.atk14h.example.com") is None, "nothing of the revision is left (its CRD)"
    assert f"namespace {other} does not exist; run: kubectl create namespace {other}" in result.message \
        and "\n" not in result.message, (
        "a missing namespace hidden by a custom kind named Namespace must still be the one line saying what to "
        f"run (namespaces.ensure_targets' `added` must only count v1 Namespaces); got: {result.message!r}")
