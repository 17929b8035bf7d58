"""atk14c: "an explicit grant means exactly what it lists (its own Namespace object too needs
``clusterKinds: [Namespace]``)" (docs/reconciler.md). Granting the Namespace kind so a source may own its
namespace grants every Namespace: ``why_denied`` checks a cluster-scoped object's kind only, never a
Namespace's name against the grant's ``namespaces``/``deniedNamespaces``. A source granted
``namespaces: [team-a]`` then relabels another team's Namespace (Pod Security ``privileged``) or adopts
``kube-system``, and under ``prune.allowNamespaces`` dropping it deletes that namespace and everything in
it. issue 14: "never has more authority than the operator grants a source". Real kube-apiserver + etcd
and git server."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from handoff.reconciler.config import Authority
from handoff.reconciler.status import REFUSED

from .cluster import new_cluster

pytestmark = [pytest.mark.tools, pytest.mark.slow]

PSA = "pod-security.kubernetes.io/enforce"
CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\ndata: {rev: \"1\"}\n"


def test_granting_the_namespace_kind_does_not_grant_other_namespaces(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    c = new_cluster(apiserver, git_server, tmp_path, {"app/cm.yaml": CM})
    other = f"team-b-{uuid.uuid4().hex[:6]}"
    c.client.apply({"apiVersion": "v1", "kind": "Namespace",
                    "metadata": {"name": other, "labels": {PSA: "restricted"}}})
    rec = c.reconciler(renderer="plain", authority=Authority(namespaces=(c.target_ns,),
                                                             cluster_kinds=("Namespace",)))
    source = rec.settings.sources[0]
    assert rec.reconcile(source).ok
    c.repo.commit({"app/ns.yaml": f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {c.target_ns}\n---\n"
                                  f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {other}\n"
                                  f"  labels: {{{PSA}: privileged}}\n"},
                  "my namespace, and team-b's, privileged")
    result = rec.reconcile(source)
    labels = (c.client.get("v1", "Namespace", other) or {}).get("metadata", {}).get("labels") or {}
    assert labels.get(PSA) == "restricted", \
        f"a source granted namespace {c.target_ns} relabelled namespace {other}: {result.result}: {result.message}"
    assert result.result == REFUSED, result.message
