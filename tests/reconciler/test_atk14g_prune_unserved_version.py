"""atk14g: a custom resource the revision drops, while the inventory names it at a version the CRD no longer
serves (the same commit, or the operator's CRD upgrade, stopped serving it). Identity is version-free, so
prune must still find the object (at a version the CRD serves) and delete it, or at least keep it listed:
an object the repo removed must never be left live, labelled, and listed nowhere (issue 14, "identity
without version"; "prune deletes what a revision drops"). Real kube-apiserver + etcd and git server."""

from __future__ import annotations

import contextlib
import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from handoff.kube.errors import KubeError
from handoff.reconciler import inventory
from handoff.reconciler.config import Authority
from handoff.reconciler.loop import Reconciler

from .cluster import new_cluster

pytestmark = [pytest.mark.tools, pytest.mark.slow]

_CRD_API = "apiextensions.k8s.io/v1"
_SCHEMA = {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}


def _crd(group: str, *, old_served: bool) -> dict[str, Any]:
    return {
        "apiVersion": _CRD_API, "kind": "CustomResourceDefinition",
        "metadata": {"name": f"databases.{group}"},
        "spec": {"group": group, "scope": "Namespaced",
                 "names": {"plural": "databases", "singular": "database", "kind": "Database"},
                 "conversion": {"strategy": "None"},
                 "versions": [{"name": "v1alpha1", "served": old_served, "storage": old_served,
                               "schema": _SCHEMA},
                              {"name": "v1", "served": True, "storage": not old_served, "schema": _SCHEMA}]}}


def _db(group: str, version: str, name: str) -> str:
    return f"apiVersion: {group}/{version}\nkind: Database\nmetadata: {{name: {name}}}\nspec: {{size: 1}}\n"


def test_a_dropped_custom_resource_listed_at_an_unserved_version_is_pruned(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    c = new_cluster(apiserver, git_server, tmp_path, {"app/placeholder.yaml": ""})
    group = f"{c.target_ns}.atk14g.example.com"
    crd_name = f"databases.{group}"
    files: dict[str, str | None] = {"app/placeholder.yaml": None,
                                    "app/crd.yaml": json.dumps(_crd(group, old_served=True)),
                                    "app/keep.yaml": _db(group, "v1alpha1", "keep"),
                                    "app/old.yaml": _db(group, "v1alpha1", "old")}
    rec = Reconciler(c.settings(renderer="plain", authority=Authority(
        namespaces=(c.target_ns,), cluster_kinds=("CustomResourceDefinition",))), c.client, c.workdir)
    source = rec.settings.sources[0]
    try:
        c.repo.commit(files, "rev 1: two databases at v1alpha1")
        first = rec.reconcile(source)
        assert first.ok, first.message
        old_uid = (c.get(f"{group}/v1", "Database", "old") or {})["metadata"]["uid"]
        # one commit: the CRD stops serving v1alpha1 (its stored objects are kept), keep moves to v1, old goes
        c.repo.commit({"app/crd.yaml": json.dumps(_crd(group, old_served=False)),
                       "app/keep.yaml": _db(group, "v1", "keep"), "app/old.yaml": None},
                      "rev 2: keep moves to v1, old is removed")
        second = rec.reconcile(source)
        left = c.get(f"{group}/v1", "Database", "old")
        listed = inventory.read(c.client, rec.settings.namespace, source.name)
        names = [r.name for r in (listed.objects if listed else ()) if r.kind == "Database"]
        assert second.ok, second.message
        assert left is None or "old" in names, (
            "a custom resource the revision dropped, listed in the inventory at a version the CRD no longer "
            "serves, was neither pruned nor kept listed: it stays live (uid "
            f"{(left or {}).get('metadata', {}).get('uid')}, was {old_uid}), still labelled, and no later pass "
            f"will ever prune it. pruned={second.pruned}, kept={second.prune_kept}, inventory Databases={names} "
            f"({second.result}: {second.message[:300]})")
    finally:
        with contextlib.suppress(KubeError):
            c.client.delete(_CRD_API, "CustomResourceDefinition", crd_name)


_HPA = """apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 1
  maxReplicas: 3
"""


def test_a_dropped_built_in_listed_at_a_version_the_upgraded_cluster_removed_is_pruned(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    """The built-in spelling: an inventory written before a Kubernetes upgrade names the HPA at
    ``autoscaling/v2beta2`` (removed in 1.26; ``policy/v1beta1`` PDBs in 1.25). The repo then drops the HPA:
    it must be pruned (found at a served version of its group) or stay listed, never silently forgotten."""
    c = new_cluster(apiserver, git_server, tmp_path, {"app/placeholder.yaml": ""})
    c.repo.commit({"app/placeholder.yaml": None, "app/hpa.yaml": _HPA,
                   "app/a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {k: v}\n",
                   "app/b.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\ndata: {k: v}\n"},
                  "rev 1: an HPA and two ConfigMaps")
    rec = c.reconciler(renderer="plain")
    source = rec.settings.sources[0]
    first = rec.reconcile(source)
    assert first.ok, first.message
    hpa_uid = (c.get("autoscaling/v2", "HorizontalPodAutoscaler", "web") or {})["metadata"]["uid"]
    # what a pass on the cluster before its upgrade listed: the same objects, the HPA at autoscaling/v2beta2
    listed = inventory.read(c.client, rec.settings.namespace, source.name)
    assert listed is not None
    older = tuple(dataclasses.replace(r, api_version="autoscaling/v2beta2")
                  if r.kind == "HorizontalPodAutoscaler" else r for r in listed.objects)
    inventory.write(c.client, rec.settings.namespace, source.name, inventory.Inventory(listed.revision, older))
    c.repo.commit({"app/hpa.yaml": None}, "rev 2: the HPA is removed")
    second = rec.reconcile(source)
    left = c.get("autoscaling/v2", "HorizontalPodAutoscaler", "web")
    now = inventory.read(c.client, rec.settings.namespace, source.name)
    kinds = [f"{r.api_version} {r.kind}/{r.name}" for r in (now.objects if now else ())]
    assert second.ok, second.message
    assert left is None or any("HorizontalPodAutoscaler" in k for k in kinds), (
        "an HPA the revision dropped, listed at autoscaling/v2beta2 (a version the upgraded cluster no longer "
        "serves), was neither pruned nor kept listed: it stays live (uid "
        f"{(left or {}).get('metadata', {}).get('uid')}, was {hpa_uid}) and no later pass will prune it. "
        f"pruned={second.pruned}, kept={second.prune_kept}, inventory={kinds} "
        f"({second.result}: {second.message[:300]})")
