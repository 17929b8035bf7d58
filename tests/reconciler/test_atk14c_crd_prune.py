"""atk14c: pruning a CustomResourceDefinition deletes every custom resource of it, in every namespace,
whoever owns them. With ``prune.allowCRDs`` on, a source granted CRDs (and its own namespace only) that
drops a CRD from its repo deletes other sources' and other teams' objects in namespaces outside its grant:
"never has more authority than the operator grants a source" and "never deletes by accident" (issue 14).
The prune counts it as one object of its inventory, so no mass-deletion guard sees it either. Real
kube-apiserver + etcd (the CRD finalizer removing the custom resources runs in it) and git server."""

from __future__ import annotations

import contextlib
import time
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from handoff.kube.client import KubeError
from handoff.reconciler.config import Authority, PruneSettings
from handoff.reconciler.loop import Reconciler

from .cluster import new_cluster

pytestmark = [pytest.mark.tools, pytest.mark.slow]


def _crd(group: str) -> str:
    return f"""apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {{name: widgets.{group}}}
spec:
  group: {group}
  scope: Namespaced
  names: {{plural: widgets, singular: widget, kind: Widget, listKind: WidgetList}}
  versions:
    - name: v1
      served: true
      storage: true
      schema: {{openAPIV3Schema: {{type: object, x-kubernetes-preserve-unknown-fields: true}}}}
"""


def test_pruning_a_crd_does_not_delete_custom_resources_outside_the_sources_grant(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    group = f"w{uuid.uuid4().hex[:6]}.example.com"
    cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\ndata: {rev: \"1\"}\n"
    c = new_cluster(apiserver, git_server, tmp_path, {"app/crd.yaml": _crd(group), "app/cm.yaml": cm})
    other = f"team-b-{uuid.uuid4().hex[:6]}"
    c.client.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": other}})
    settings = replace(c.settings(renderer="plain", authority=Authority(
        namespaces=(c.target_ns,), cluster_kinds=("CustomResourceDefinition",))),
        prune=PruneSettings(allow_crds=True))
    rec = Reconciler(settings, c.client, c.workdir)
    source = settings.sources[0]
    try:
        assert rec.reconcile(source).ok
        # team-b's object of that kind, in a namespace the platform source is not granted
        c.client.apply({"apiVersion": f"{group}/v1", "kind": "Widget",
                        "metadata": {"name": "orders", "namespace": other}, "spec": {"size": 3}})
        c.repo.commit({"app/crd.yaml": None}, "the platform repo stops shipping widgets")
        result = rec.reconcile(source)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and \
                c.client.get("apiextensions.k8s.io/v1", "CustomResourceDefinition", f"widgets.{group}"):
            time.sleep(0.2)  # a deletion, if one was made, completes here
        c.client.forget_discovery()
        try:
            widget = c.client.get(f"{group}/v1", "Widget", "orders", other)
        except KubeError:  # the kind itself is gone: so is the object
            widget = None
        assert widget is not None, ("a source granted only its own namespace deleted team-b's Widget by "
                                    f"pruning its CRD: {result.result}: {result.message} {result.pruned}")
    finally:
        with contextlib.suppress(Exception):  # cleanup only
            c.client.delete("apiextensions.k8s.io/v1", "CustomResourceDefinition", f"widgets.{group}")
