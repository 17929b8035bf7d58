"""atk14d: before a Namespace or CRD a source owns is pruned, ``prune.why_blast`` lists what the API
server would delete with it, and keeps it unless all of that is the source's own. Three ways that list
misses objects that are not the source's, so a source's prune deletes others' data ("never deletes by
accident", "never more authority than the operator grants", issue 14):

- an object with ``ownerReferences`` is skipped as "controlled, its fate follows its owner", but its owner
  may be cluster-scoped (or in no counted object at all): deleting the Namespace deletes it anyway;
- a Namespace's contents are listed at each group's *preferred* version only: a kind served only at
  another version of the group (two CRDs of one group at v1 and v1alpha1) is never listed;
- a CRD whose versions are all ``served: false`` is counted as holding nothing, yet its custom resources
  stay stored and the CRD's deletion removes them.

Real kube-apiserver + etcd (the check reads the live API server; no mock)."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest

from handoff.kube.client import KubeClient, KubeError, connect
from handoff.reconciler import prune
from handoff.reconciler.objects import OWNER_LABEL, owner_value
from handoff.report.model import ObjectRef

pytestmark = [pytest.mark.tools, pytest.mark.slow]

SOURCE = "platform"


def _everything(_: ObjectRef) -> bool:
    return True


def _owned_namespace(client: KubeClient) -> tuple[ObjectRef, dict[str, Any]]:
    name = f"ns-{uuid.uuid4().hex[:6]}"
    live = client.apply({"apiVersion": "v1", "kind": "Namespace",
                         "metadata": {"name": name, "labels": {OWNER_LABEL: owner_value(SOURCE)}}})
    return ObjectRef("v1", "Namespace", name, ""), live


def _crd(group: str, kind: str, version: str, *, served: bool = True) -> dict[str, Any]:
    plural = kind.lower() + "s"
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": f"{plural}.{group}", "labels": {OWNER_LABEL: owner_value(SOURCE)}},
            "spec": {"group": group, "scope": "Namespaced",
                     "names": {"plural": plural, "singular": kind.lower(), "kind": kind,
                               "listKind": f"{kind}List"},
                     "versions": [{"name": version, "served": served, "storage": True, "schema": {
                         "openAPIV3Schema": {"type": "object",
                                             "x-kubernetes-preserve-unknown-fields": True}}}]}}


def _wait_served(client: KubeClient, api_version: str, kind: str, namespace: str) -> None:
    for _ in range(100):
        try:
            list(client.list(api_version, kind, namespace=namespace))
            return
        except KubeError:  # discovery catches up with a new CRD within seconds
            time.sleep(0.1)
    raise AssertionError(f"{api_version} {kind} never served")


def test_namespace_blast_counts_an_object_owned_by_a_cluster_scoped_object(apiserver: Any) -> None:
    client = connect(apiserver.kubeconfig)
    ref, live = _owned_namespace(client)
    # another team's controller keeps its data here, owned by its cluster-scoped object (a ClusterRole
    # stands in for any cluster-scoped owner): deleting the Namespace deletes this ConfigMap all the same
    owner = client.apply({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                          "metadata": {"name": f"team-b-{uuid.uuid4().hex[:6]}"}, "rules": []})
    client.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {
        "name": "team-b-data", "namespace": ref.name,
        "ownerReferences": [{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                             "name": owner["metadata"]["name"], "uid": owner["metadata"]["uid"]}]},
        "data": {"orders": "42"}})
    why = prune.why_blast(client, ref, live, SOURCE, _everything)
    assert why, ("pruning the Namespace would delete team-b's ConfigMap (owned by a cluster-scoped object "
                 "no count includes), yet the blast check found nothing")


def test_namespace_blast_counts_a_kind_served_only_at_a_non_preferred_version(apiserver: Any) -> None:
    client = connect(apiserver.kubeconfig)
    ref, live = _owned_namespace(client)
    group = f"g{uuid.uuid4().hex[:6]}.example.com"
    client.apply(_crd(group, "Gadget", "v1"))  # makes v1 the group's preferred version
    client.apply(_crd(group, "Widget", "v1alpha1"))  # served only at v1alpha1
    _wait_served(client, f"{group}/v1alpha1", "Widget", ref.name)
    _wait_served(client, f"{group}/v1", "Gadget", ref.name)
    client.apply({"apiVersion": f"{group}/v1alpha1", "kind": "Widget",
                  "metadata": {"name": "team-b-orders", "namespace": ref.name}, "spec": {"size": 3}})
    why = prune.why_blast(client, ref, live, SOURCE, _everything)
    assert why, ("pruning the Namespace would delete team-b's Widget (its kind is served at v1alpha1, not at "
                 "the group's preferred v1), yet the blast check found nothing")


def test_crd_blast_counts_custom_resources_of_a_crd_no_longer_served(apiserver: Any) -> None:
    client = connect(apiserver.kubeconfig)
    group = f"s{uuid.uuid4().hex[:6]}.example.com"
    crd = client.apply(_crd(group, "Widget", "v1"))
    other = f"team-b-{uuid.uuid4().hex[:6]}"
    client.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": other}})
    _wait_served(client, f"{group}/v1", "Widget", other)
    client.apply({"apiVersion": f"{group}/v1", "kind": "Widget",
                  "metadata": {"name": "orders", "namespace": other}, "spec": {"size": 3}})
    # the source's previous revision set served: false; its custom resources stay stored in etcd and the
    # CRD's deletion (its customresourcecleanup finalizer) removes them
    live = client.apply(_crd(group, "Widget", "v1", served=False))
    assert live["metadata"]["uid"] == crd["metadata"]["uid"]
    ref = ObjectRef("apiextensions.k8s.io/v1", "CustomResourceDefinition", crd["metadata"]["name"], "")
    why = prune.why_blast(client, ref, live, SOURCE, _everything)
    assert why, ("pruning the CRD would delete team-b's Widget (stored, only not served), yet the blast check "
                 "found nothing")
