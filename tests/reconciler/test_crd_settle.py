"""A CRD the pass applies is usable before its custom resources follow: the API server marks it
Established before its discovery lists the new group, and a custom resource sent in that gap is refused
as an unknown apiVersion (stop 23's CI failure). And a CRD the roll-back deleted, held only by the API
server's own cleanup finalizer, is not a roll-back left incomplete. Real kube-apiserver + etcd."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from handoff.kube.client import connect
from handoff.reconciler.apply import wait_established
from handoff.reconciler.rollback import _held
from handoff.report.model import ObjectRef

pytestmark = [pytest.mark.tools]

_SCHEMA = {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}


def _crd(group: str) -> dict[str, Any]:
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": f"gizmos.{group}"},
            "spec": {"group": group, "scope": "Cluster",
                     "names": {"plural": "gizmos", "singular": "gizmo", "kind": "Gizmo"},
                     "versions": [{"name": "v1", "served": True, "storage": False, "schema": _SCHEMA},
                                  {"name": "v2", "served": True, "storage": True, "schema": _SCHEMA}]}}


def test_every_served_version_resolves_the_moment_wait_established_returns(apiserver: Any) -> None:
    client = connect(apiserver.kubeconfig)
    for _ in range(5):
        group = f"g{uuid.uuid4().hex[:8]}.settle.example.com"
        client.apply(_crd(group))
        try:
            wait_established(client, f"gizmos.{group}")
            for version in ("v1", "v2"):
                client.apply({"apiVersion": f"{group}/{version}", "kind": "Gizmo",
                              "metadata": {"name": f"at-{version}"}})
        finally:
            client.delete("apiextensions.k8s.io/v1", "CustomResourceDefinition", f"gizmos.{group}")


def _terminating(finalizers: list[str]) -> dict[str, Any]:
    return {"metadata": {"uid": "u1", "deletionTimestamp": "2026-12-07T00:00:00Z", "finalizers": finalizers}}


def test_only_the_api_servers_crd_cleanup_finalizer_is_not_a_hold() -> None:
    ref = ObjectRef("apiextensions.k8s.io/v1", "CustomResourceDefinition", "gizmos.example.com", "")
    assert _held(ref, "u1", _terminating(["customresourcecleanup.apiextensions.k8s.io"])) is None
    held = _held(ref, "u1", _terminating(["customresourcecleanup.apiextensions.k8s.io", "example.com/keep"]))
    assert held is not None and "example.com/keep" in str(held) and "customresourcecleanup" not in str(held)
