"""What a Namespace's deletion would take, as ``prune.why_blast`` counts it (issue 14, atk14d D2-D4): an
object is left out as "controlled" only when its owner is itself counted in that Namespace, and an API
group whose service is down (an aggregated APIService answering 503) makes the contents unlistable, so
the Namespace is kept with the reason, never deleted blind. Real kube-apiserver + etcd."""

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


def _config_map(client: KubeClient, namespace: str, name: str, *, owner: dict[str, Any] | None = None,
                labelled: bool = False) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": namespace}
    if labelled:
        meta["labels"] = {OWNER_LABEL: owner_value(SOURCE)}
    if owner is not None:
        meta["ownerReferences"] = [{"apiVersion": "v1", "kind": "ConfigMap", "name": owner["metadata"]["name"],
                                    "uid": owner["metadata"]["uid"]}]
    return client.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": {"a": "1"}})


def test_a_dependent_of_a_counted_object_in_the_namespace_follows_it(apiserver: Any) -> None:
    client = connect(apiserver.kubeconfig)
    ref, live = _owned_namespace(client)
    parent = _config_map(client, ref.name, "parent", labelled=True)
    child = _config_map(client, ref.name, "child", owner=parent)
    _config_map(client, ref.name, "grandchild", owner=child)
    assert prune.why_blast(client, ref, live, SOURCE, _everything) == ""


def test_a_dependent_of_another_teams_object_is_counted_through_its_owner(apiserver: Any) -> None:
    client = connect(apiserver.kubeconfig)
    ref, live = _owned_namespace(client)
    parent = _config_map(client, ref.name, "team-b-parent")
    _config_map(client, ref.name, "child", owner=parent, labelled=True)
    why = prune.why_blast(client, ref, live, SOURCE, _everything)
    assert "team-b-parent" in why


def test_objects_owning_each_other_alone_are_counted(apiserver: Any) -> None:
    client = connect(apiserver.kubeconfig)
    ref, live = _owned_namespace(client)
    first = _config_map(client, ref.name, "team-b-first")
    second = _config_map(client, ref.name, "team-b-second", owner=first)
    _config_map(client, ref.name, "team-b-first", owner=second)  # now a cycle, no counted root
    why = prune.why_blast(client, ref, live, SOURCE, _everything)
    assert "team-b-first" in why and "team-b-second" in why


def test_an_unavailable_aggregated_api_refuses_the_namespace_prune(apiserver: Any) -> None:
    client = connect(apiserver.kubeconfig)
    ref, live = _owned_namespace(client)
    group = f"down{uuid.uuid4().hex[:6]}.example.com"
    name = f"v1.{group}"
    client.apply({"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService", "metadata": {"name": name},
                  "spec": {"group": group, "version": "v1", "groupPriorityMinimum": 1000, "versionPriority": 15,
                           "insecureSkipTLSVerify": True,
                           "service": {"name": "nothing-here", "namespace": "default", "port": 443}}})
    try:
        for _ in range(300):  # the aggregator lists the group, and answers 503 for it, within seconds
            try:
                client.request("GET", f"/apis/{group}/v1")
            except KubeError as e:
                if e.status == 503 and any(g.get("name") == group
                                           for g in client.request("GET", "/apis").get("groups", [])):
                    break
            time.sleep(0.1)
        else:
            pytest.fail(f"{name} never became an unavailable group")
        why = prune.why_blast(client, ref, live, SOURCE, _everything)
        assert "cannot be listed" in why and group in why
    finally:
        client.delete("apiregistration.k8s.io/v1", "APIService", name, "")
