"""Adoption on the operator's say-so (``authority: adopt: true``): an object the cluster already has, that no
source created, is taken over, marked ``handoff.dev/adopted`` under a field manager of its own (the source's
applies never remove the mark), and never pruned: dropped from the repo, it stays. Without ``adopt`` it is
refused (``test_atk14j_takeover_kinds.py``), but for the source's own target Namespace and the namespace's
``default`` ServiceAccount; Kubernetes' bootstrap RBAC is refused even with it. Real kube-apiserver + etcd."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from handoff.reconciler.adoption import ADOPTION_MANAGER
from handoff.reconciler.config import Authority
from handoff.reconciler.loop import Reconciler
from handoff.reconciler.objects import ADOPTED_ANNOTATION
from handoff.reconciler.status import SUCCEEDED

from .cluster import new_cluster

pytestmark = [pytest.mark.tools, pytest.mark.slow]

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: app}}\ndata: {{rev: \"{rev}\"}}\n"
QUOTA = "apiVersion: v1\nkind: ResourceQuota\nmetadata: {{name: team-quota}}\nspec: {{hard: {{pods: \"{pods}\"}}}}\n"


def _quota(c: Any) -> dict[str, Any] | None:
    return c.client.get("v1", "ResourceQuota", "team-quota", c.target_ns)


def test_an_adopted_object_is_marked_kept_marked_and_never_pruned(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    c = new_cluster(apiserver, git_server, tmp_path, {"app/cm.yaml": CM.format(rev=1)})
    c.client.apply({"apiVersion": "v1", "kind": "ResourceQuota",
                    "metadata": {"name": "team-quota", "namespace": c.target_ns},
                    "spec": {"hard": {"pods": "5"}}}, manager="operator")
    grant = Authority(namespaces=(c.target_ns,), adopt=True)
    rec = Reconciler(c.settings(renderer="plain", authority=grant), c.client, c.workdir)
    source = rec.settings.sources[0]
    assert rec.reconcile(source).ok
    c.repo.commit({"app/quota.yaml": QUOTA.format(pods=10), "app/cm.yaml": CM.format(rev=2)}, "adopt the quota")
    adopted = rec.reconcile(source)
    assert adopted.result == SUCCEEDED, adopted.message
    live = _quota(c) or {}
    assert live["spec"]["hard"]["pods"] == "10"
    assert live["metadata"]["annotations"][ADOPTED_ANNOTATION] == "true"
    managers = {f["manager"] for f in live["metadata"]["managedFields"]}
    assert ADOPTION_MANAGER in managers
    # a later revision of it keeps the mark: the source's own applies never own it
    c.repo.commit({"app/quota.yaml": QUOTA.format(pods=12), "app/cm.yaml": CM.format(rev=3)}, "change it")
    assert rec.reconcile(source).result == SUCCEEDED
    assert ((_quota(c) or {})["metadata"]["annotations"] or {}).get(ADOPTED_ANNOTATION) == "true"
    c.repo.commit({"app/quota.yaml": None, "app/cm.yaml": CM.format(rev=4)}, "drop it")
    dropped = rec.reconcile(source)
    assert dropped.result == SUCCEEDED, dropped.message
    assert _quota(c) is not None, "an adopted object was pruned"
    assert any("adopted" in why for _, why in dropped.prune_kept), dropped.prune_kept


def test_without_adopt_the_sources_namespace_and_its_default_service_account_are_still_taken_over(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    c = new_cluster(apiserver, git_server, tmp_path, {"app/cm.yaml": CM.format(rev=1)})
    c.client.apply({"apiVersion": "v1", "kind": "ServiceAccount",
                    "metadata": {"name": "default", "namespace": c.target_ns}}, manager="kube-controller-manager")
    rec = c.reconciler(renderer="plain")
    c.repo.commit({"app/ns.yaml": f"apiVersion: v1\nkind: Namespace\nmetadata: {{name: {c.target_ns}}}\n",
                   "app/sa.yaml": "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: default}\n"
                                  "automountServiceAccountToken: false\n"}, "the namespace's own objects")
    result = rec.reconcile(rec.settings.sources[0])
    assert result.result == SUCCEEDED, result.message
    sa = c.client.get("v1", "ServiceAccount", "default", c.target_ns) or {}
    assert sa.get("automountServiceAccountToken") is False


def test_bootstrap_rbac_is_never_adopted(apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    c = new_cluster(apiserver, git_server, tmp_path, {"app/cm.yaml": CM.format(rev=1)})
    rbac = "rbac.authorization.k8s.io/v1"
    saved = c.client.get(rbac, "ClusterRole", "system:public-info-viewer") or {}
    grant = Authority(namespaces=(c.target_ns,), cluster_kinds=("ClusterRole",), adopt=True)
    rec = Reconciler(c.settings(renderer="plain", authority=grant), c.client, c.workdir)
    c.repo.commit({"app/role.yaml": f"apiVersion: {rbac}\nkind: ClusterRole\n"
                                    "metadata: {name: \"system:public-info-viewer\"}\n"
                                    "rules: [{nonResourceURLs: [\"/healthz\"], verbs: [get]}]\n"}, "bootstrap")
    result = rec.reconcile(rec.settings.sources[0])
    assert result.result != SUCCEEDED and "bootstrap RBAC" in result.message, result.message
    assert (c.client.get(rbac, "ClusterRole", "system:public-info-viewer") or {}).get("rules") == saved.get("rules")
