"""atk14e: an apiVersion change combined with the CRD no longer serving the old version, in one revision
that the API server then rejects midway (an operator's ValidatingAdmissionPolicy that judges only real
writes, so preflight passes). Nothing of that revision may stay live: the CRD serves the old version again,
every custom resource keeps its old spec (and its uid), status names the live revision ("atomic revisions"
and "identity without version", issue 14). Real kube-apiserver + etcd and git server."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest

from handoff.kube.errors import KubeError
from handoff.reconciler.config import Authority
from handoff.reconciler.loop import Reconciler

from .cluster import new_cluster

pytestmark = [pytest.mark.tools, pytest.mark.slow]

_ADM = "admissionregistration.k8s.io/v1"
_SCHEMA = {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}


def _crd(group: str, *, old_served: bool) -> str:
    return json.dumps({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": f"databases.{group}"},
        "spec": {"group": group, "scope": "Namespaced",
                 "names": {"plural": "databases", "singular": "database", "kind": "Database"},
                 "conversion": {"strategy": "None"},
                 "versions": [{"name": "v1alpha1", "served": old_served, "storage": old_served, "schema": _SCHEMA},
                              {"name": "v1", "served": True, "storage": not old_served, "schema": _SCHEMA}]}})


def _db(group: str, version: str, name: str, size: int) -> str:
    return f"apiVersion: {group}/{version}\nkind: Database\nmetadata: {{name: {name}}}\nspec: {{size: {size}}}\n"


def _policy(name: str, group: str, ns: str) -> list[dict[str, Any]]:
    return [{"apiVersion": _ADM, "kind": "ValidatingAdmissionPolicy", "metadata": {"name": name},
             "spec": {"failurePolicy": "Fail",
                      "matchConstraints": {"resourceRules": [{
                          "apiGroups": [group], "apiVersions": ["*"], "operations": ["CREATE", "UPDATE"],
                          "resources": ["databases"]}]},
                      "validations": [{"expression": (
                          "request.dryRun == true || !object.metadata.name.startsWith('b-') || "
                          "!has(object.spec.size) || object.spec.size != 2"),
                          "message": "b-* at size 2 is refused on real writes"}]}},
            {"apiVersion": _ADM, "kind": "ValidatingAdmissionPolicyBinding", "metadata": {"name": name},
             "spec": {"policyName": name, "validationActions": ["Deny"], "matchResources": {
                 "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": ns}}}}}]


def test_a_version_drop_rejected_midway_is_rolled_back_whole(apiserver: Any, git_server: Any,
                                                             tmp_path: Path) -> None:
    c = new_cluster(apiserver, git_server, tmp_path, {"app/placeholder.yaml": ""})
    group = f"{c.target_ns}.atk14e.example.com"
    files = {"app/placeholder.yaml": None, "app/crd.yaml": _crd(group, old_served=True),
             "app/a.yaml": _db(group, "v1alpha1", "a-orders", 1), "app/b.yaml": _db(group, "v1alpha1", "b-orders", 1)}
    c.repo.commit(files, "rev 1: a CRD and two databases at v1alpha1")
    rec = Reconciler(c.settings(renderer="plain", authority=Authority(
        namespaces=(c.target_ns,), cluster_kinds=("CustomResourceDefinition",))), c.client, c.workdir)
    source = rec.settings.sources[0]
    name = f"dbs-{c.target_ns}"
    try:
        first = rec.reconcile(source)
        assert first.ok, first.message
        uids = {n: c.get(f"{group}/v1", "Database", n)["metadata"]["uid"] for n in ("a-orders", "b-orders")}
        for obj in _policy(name, group, c.target_ns):
            c.client.create(obj)
        while True:  # until the API server enforces the policy on real writes
            try:
                c.client.apply({"apiVersion": f"{group}/v1", "kind": "Database",
                                "metadata": {"name": "b-probe", "namespace": c.target_ns}, "spec": {"size": 2}})
            except KubeError:
                break
            c.client.delete(f"{group}/v1", "Database", "b-probe", c.target_ns)
        c.repo.commit({"app/crd.yaml": _crd(group, old_served=False),
                       "app/a.yaml": _db(group, "v1", "a-orders", 2), "app/b.yaml": _db(group, "v1", "b-orders", 2)},
                      "rev 2: move to v1, stop serving v1alpha1")
        failed = rec.reconcile(source)
        crd = c.client.get("apiextensions.k8s.io/v1", "CustomResourceDefinition", f"databases.{group}") or {}
        served = {v["name"]: v.get("served") for v in crd["spec"]["versions"]}
        live = {n: c.get(f"{group}/v1", "Database", n) for n in ("a-orders", "b-orders")}
        sizes = {n: (o or {}).get("spec", {}).get("size") for n, o in live.items()}
        now_uids = {n: (o or {}).get("metadata", {}).get("uid") for n, o in live.items()}
        assert not failed.ok, "precondition: the policy rejected b-orders at the real write"
        assert served.get("v1alpha1") is True and sizes == {"a-orders": 1, "b-orders": 1} and now_uids == uids, (
            "a revision that moved the CRs to v1 and stopped serving v1alpha1, rejected midway, was left "
            f"half-applied: CRD served {served}, sizes {sizes}, uids kept {now_uids == uids} "
            f"({failed.result}: {failed.message[:400]})")
    finally:
        for kind in ("ValidatingAdmissionPolicyBinding", "ValidatingAdmissionPolicy"):
            with contextlib.suppress(KubeError):
                c.client.delete(_ADM, kind, name)
        with contextlib.suppress(KubeError):
            c.client.delete("apiextensions.k8s.io/v1", "CustomResourceDefinition", f"databases.{group}")
