"""atk14f: a revision that moves a CRD's storage version (v1 -> v2, v1 still served) and is then rejected
midway (an operator's ValidatingAdmissionPolicy that judges only real writes, so preflight passes). The
roll-back must put the CRD back as it was; the API server refuses the pre-pass spec (v1 only) once
``status.storedVersions`` lists v2, so the revision's CRD stays live: half-applied ("atomic revisions",
issue 14). Real kube-apiserver + etcd and git server."""

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


def _crd(group: str, *, with_v2: bool) -> str:
    versions = [{"name": "v1", "served": True, "storage": not with_v2, "schema": _SCHEMA}]
    if with_v2:
        versions.append({"name": "v2", "served": True, "storage": True, "schema": _SCHEMA})
    return json.dumps({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": f"databases.{group}"},
        "spec": {"group": group, "scope": "Namespaced",
                 "names": {"plural": "databases", "singular": "database", "kind": "Database"},
                 "conversion": {"strategy": "None"}, "versions": versions}})


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


def test_a_storage_version_move_rejected_midway_puts_the_crd_back(apiserver: Any, git_server: Any,
                                                                  tmp_path: Path) -> None:
    c = new_cluster(apiserver, git_server, tmp_path, {"app/placeholder.yaml": ""})
    group = f"{c.target_ns}.atk14f.example.com"
    c.repo.commit({"app/placeholder.yaml": None, "app/crd.yaml": _crd(group, with_v2=False),
                   "app/a.yaml": _db(group, "v1", "a-orders", 1), "app/b.yaml": _db(group, "v1", "b-orders", 1)},
                  "rev 1: a CRD storing v1 and two databases")
    rec = Reconciler(c.settings(renderer="plain", authority=Authority(
        namespaces=(c.target_ns,), cluster_kinds=("CustomResourceDefinition",))), c.client, c.workdir)
    source = rec.settings.sources[0]
    name = f"dbs-{c.target_ns}"
    try:
        first = rec.reconcile(source)
        assert first.ok, first.message
        for obj in _policy(name, group, c.target_ns):
            c.client.create(obj)
        while True:  # until the API server enforces the policy on real writes
            try:
                c.client.apply({"apiVersion": f"{group}/v1", "kind": "Database",
                                "metadata": {"name": "b-probe", "namespace": c.target_ns}, "spec": {"size": 2}})
            except KubeError:
                break
            c.client.delete(f"{group}/v1", "Database", "b-probe", c.target_ns)
        c.repo.commit({"app/crd.yaml": _crd(group, with_v2=True),
                       "app/a.yaml": _db(group, "v2", "a-orders", 2), "app/b.yaml": _db(group, "v2", "b-orders", 2)},
                      "rev 2: store v2")
        failed = rec.reconcile(source)
        crd = c.client.get("apiextensions.k8s.io/v1", "CustomResourceDefinition", f"databases.{group}") or {}
        versions = {v["name"]: (v.get("served"), v.get("storage")) for v in crd["spec"]["versions"]}
        stored = (crd.get("status") or {}).get("storedVersions")
        assert not failed.ok, "precondition: the policy rejected b-orders at the real write"
        assert versions == {"v1": (True, True)}, (
            "a revision that moved the CRD's storage version to v2, rejected midway, must be rolled back whole "
            f"(the CRD storing v1 only again); it was left with versions {versions} (storedVersions {stored}) "
            f"({failed.result}: {failed.message[:500]})")
    finally:
        for kind in ("ValidatingAdmissionPolicyBinding", "ValidatingAdmissionPolicy"):
            with contextlib.suppress(KubeError):
                c.client.delete(_ADM, kind, name)
        with contextlib.suppress(KubeError):
            c.client.delete("apiextensions.k8s.io/v1", "CustomResourceDefinition", f"databases.{group}")
