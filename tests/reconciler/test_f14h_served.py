"""Inventory entries looked up at a version the API server serves now (``handoff.reconciler.served``): an
object whose group and kind are served nowhere is gone; one whose CRD still exists but serves no version
cannot be read, so its prune is deferred and it stays listed; a deleted Source's prune and orphaning find
an object listed at a version the cluster no longer serves. Real kube-apiserver + etcd and git server."""

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
from handoff.reconciler.objects import OWNER_LABEL
from handoff.reconciler.sourcecrd import API_VERSION, KIND
from handoff.report.model import ObjectRef

from .cluster import Cluster, new_cluster
from .test_atk14c_source_objects import _look, _served
from .test_source_crd_live import cluster, source_object  # noqa: F401 - fixture

pytestmark = [pytest.mark.tools, pytest.mark.slow]

_CRD_API = "apiextensions.k8s.io/v1"
_SCHEMA = {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}
CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {k: v}\n"


def _crd(group: str, *, served: bool) -> str:
    return json.dumps({
        "apiVersion": _CRD_API, "kind": "CustomResourceDefinition", "metadata": {"name": f"databases.{group}"},
        "spec": {"group": group, "scope": "Namespaced",
                 "names": {"plural": "databases", "singular": "database", "kind": "Database"},
                 "versions": [{"name": "v1", "served": served, "storage": True, "schema": _SCHEMA}]}})


def _listed(c: Cluster, rec: Reconciler) -> list[str]:
    listed = inventory.read(c.client, rec.settings.namespace, rec.settings.sources[0].name)
    return [f"{r.kind}/{r.name}" for r in (listed.objects if listed else ())]


def test_a_dropped_custom_resource_whose_crd_serves_no_version_is_kept_listed(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    c = new_cluster(apiserver, git_server, tmp_path, {"app/a.yaml": CM})
    group = f"{c.target_ns}.f14h.example.com"
    rec = Reconciler(c.settings(renderer="plain", authority=Authority(
        namespaces=(c.target_ns,), cluster_kinds=("CustomResourceDefinition",))), c.client, c.workdir)
    source = rec.settings.sources[0]
    try:
        c.repo.commit({"app/crd.yaml": _crd(group, served=True),
                       "app/old.yaml": f"apiVersion: {group}/v1\nkind: Database\nmetadata: {{name: old}}\n"},
                      "rev 1: a CRD and a custom resource")
        assert rec.reconcile(source).ok
        # one commit: the CRD stops serving its one version (its stored objects stay), the resource goes
        c.repo.commit({"app/crd.yaml": _crd(group, served=False), "app/old.yaml": None}, "rev 2")
        second = rec.reconcile(source)
        assert second.ok, second.message
        assert "prune of 1 object(s) deferred" in second.message
        why = [reason for ref, reason in second.prune_kept if ref.name == "old"]
        assert why == [f"prune deferred: its CustomResourceDefinition databases.{group} serves no version, "
                       "so it cannot be read"], second.prune_kept
        assert "Database/old" in _listed(c, rec), "an object that cannot be read must stay listed"
    finally:
        with contextlib.suppress(KubeError):
            c.client.delete(_CRD_API, "CustomResourceDefinition", f"databases.{group}")


def test_a_dropped_object_whose_kind_is_served_nowhere_is_gone(apiserver: Any, git_server: Any,
                                                              tmp_path: Path) -> None:
    """An entry of a group and kind no version serves and no CRD defines (the CRD was deleted, and its
    objects with it): nothing left to prune, so it leaves the inventory."""
    c = new_cluster(apiserver, git_server, tmp_path, {"app/a.yaml": CM})
    rec = c.reconciler(renderer="plain")
    source = rec.settings.sources[0]
    assert rec.reconcile(source).ok
    listed = inventory.read(c.client, rec.settings.namespace, source.name)
    assert listed is not None
    gone = ObjectRef(f"gone-{c.target_ns}.f14h.example.com/v1", "Database", "x", c.target_ns)
    inventory.write(c.client, rec.settings.namespace, source.name,
                    inventory.Inventory(listed.revision, (*listed.objects, gone)))
    c.repo.commit({"app/a.yaml": CM.replace("k: v", "k: w")}, "rev 2")
    second = rec.reconcile(source)
    assert second.ok, second.message
    assert second.pruned == () and second.prune_kept == ()
    assert _listed(c, rec) == ["ConfigMap/a"]


_HPA = """apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 1
  maxReplicas: 3
"""


@pytest.mark.parametrize("prune", [True, False], ids=["prune", "orphan"])
def test_a_deleted_source_finds_an_object_listed_at_a_version_no_longer_served(
        cluster: Cluster, prune: bool) -> None:  # noqa: F811
    """The inventory names the HPA at ``autoscaling/v2beta2`` (written before a Kubernetes upgrade); the
    Source is then deleted: its finalizer deletes the HPA (prune) or takes its owner label off (orphan),
    reading it at ``autoscaling/v2``."""
    c = cluster
    c.repo.commit({"app/hpa.yaml": _HPA}, "an HPA")
    rec, objects = _served(c)
    c.client.create(source_object(c, prune=prune))
    _look(objects, rec)
    assert [r.ok for r in rec.run_once()] == [True]
    _look(objects, rec)
    name = rec.sources()[0].name
    listed = inventory.read(c.client, rec.settings.namespace, name)
    assert listed is not None
    older = tuple(dataclasses.replace(r, api_version="autoscaling/v2beta2")
                  if r.kind == "HorizontalPodAutoscaler" else r for r in listed.objects)
    inventory.write(c.client, rec.settings.namespace, name, inventory.Inventory(listed.revision, older))
    c.client.delete(API_VERSION, KIND, "web", c.target_ns)
    _look(objects, rec)
    hpa = c.get("autoscaling/v2", "HorizontalPodAutoscaler", "web")
    if prune:
        assert hpa is None or hpa["metadata"].get("deletionTimestamp"), "the deleted Source left its HPA"
    else:
        assert hpa is not None and OWNER_LABEL not in (hpa["metadata"].get("labels") or {}), (
            "the deleted Source's orphaning left its HPA labelled as the Source's")


def _two_versions(group: str, *, alpha_served: bool) -> str:
    return json.dumps({
        "apiVersion": _CRD_API, "kind": "CustomResourceDefinition", "metadata": {"name": f"databases.{group}"},
        "spec": {"group": group, "scope": "Namespaced",
                 "names": {"plural": "databases", "singular": "database", "kind": "Database"},
                 "conversion": {"strategy": "None"},
                 "versions": [{"name": "v1alpha1", "served": alpha_served, "storage": alpha_served,
                               "schema": _SCHEMA},
                              {"name": "v1", "served": True, "storage": not alpha_served, "schema": _SCHEMA}]}})


def test_a_dropped_custom_resource_listed_at_a_version_the_same_pass_stopped_serving_is_deleted(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    """The pass itself stops serving ``v1alpha1`` (its discovery read earlier still names it): the object
    is read again with fresh discovery, at ``v1``, and deleted; not only kept listed."""
    c = new_cluster(apiserver, git_server, tmp_path, {"app/a.yaml": CM})
    group = f"{c.target_ns}.f14h.example.com"
    rec = Reconciler(c.settings(renderer="plain", authority=Authority(
        namespaces=(c.target_ns,), cluster_kinds=("CustomResourceDefinition",))), c.client, c.workdir)
    source = rec.settings.sources[0]
    old = f"apiVersion: {group}/v1alpha1\nkind: Database\nmetadata: {{name: old}}\n"
    try:
        c.repo.commit({"app/crd.yaml": _two_versions(group, alpha_served=True), "app/old.yaml": old}, "rev 1")
        assert rec.reconcile(source).ok
        c.repo.commit({"app/crd.yaml": _two_versions(group, alpha_served=False), "app/old.yaml": None}, "rev 2")
        second = rec.reconcile(source)
        assert second.ok, second.message
        assert [r.name for r in second.pruned] == ["old"], (second.pruned, second.prune_kept)
        gone = c.get(f"{group}/v1", "Database", "old")
        assert gone is None or gone["metadata"].get("deletionTimestamp")
        assert "Database/old" not in _listed(c, rec)
    finally:
        with contextlib.suppress(KubeError):
            c.client.delete(_CRD_API, "CustomResourceDefinition", f"databases.{group}")
