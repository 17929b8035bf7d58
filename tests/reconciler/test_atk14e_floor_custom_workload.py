"""atk14e: the floor's Pod Security baseline matches pod specs by kind, and only the nine built-in
workload kinds. A custom resource that carries a pod template its controller runs as-is (an Argo
``Rollout``, a KEDA ``ScaledJob``, a Tekton ``TaskRun``'s podTemplate, …) is never looked at, so a repo
wraps a privileged, hostPath, hostPID pod in one and the default floor applies it ("the floor holds
against the repo", issue 14). The floor should refuse pod templates it can find at the usual
``spec.template.spec`` place of any kind, or refuse kinds it cannot read unless the operator lists them.
Real kube-apiserver + etcd and git server."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest

from handoff.kube.errors import KubeError
from handoff.reconciler.config import Authority, PolicyFloor, Settings
from handoff.reconciler.loop import Reconciler

from .cluster import new_cluster

pytestmark = [pytest.mark.tools, pytest.mark.slow]

GROUP = "rollouts.atk14e.example.com"

CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": f"rollouts.{GROUP}"},
    "spec": {"group": GROUP, "scope": "Namespaced",
             "names": {"plural": "rollouts", "singular": "rollout", "kind": "Rollout"},
             "versions": [{"name": "v1alpha1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {
                 "type": "object", "x-kubernetes-preserve-unknown-fields": True}}}]}}

_ROLLOUT = f"""apiVersion: {GROUP}/v1alpha1
kind: Rollout
metadata: {{name: agent}}
spec:
  replicas: 1
  selector: {{matchLabels: {{app: agent}}}}
  template:
    metadata:
      labels: {{app: agent}}
    spec:
      hostPID: true
      hostNetwork: true
      containers:
        - name: main
          image: registry.example/agent:1.0.0
          securityContext: {{privileged: true}}
          volumeMounts: [{{name: root, mountPath: /host}}]
          resources: {{requests: {{cpu: 100m, memory: 64Mi}}, limits: {{cpu: 200m, memory: 128Mi}}}}
      volumes:
        - name: root
          hostPath: {{path: /}}
"""


def _established(client: Any) -> bool:
    crd = client.get("apiextensions.k8s.io/v1", "CustomResourceDefinition", f"rollouts.{GROUP}") or {}
    return any(c.get("type") == "Established" and c.get("status") == "True"
               for c in (crd.get("status") or {}).get("conditions") or ())


def test_the_default_floor_refuses_a_privileged_pod_template_inside_a_custom_resource(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    # the repo ships the controller's CRD with the rollout (so validation has its schema); the operator
    # grants it, as for any operator chart
    c = new_cluster(apiserver, git_server, tmp_path, {"app/rollout.yaml": _ROLLOUT,
                                                      "app/crd.yaml": json.dumps(CRD)})
    with contextlib.suppress(KubeError):
        c.client.create(CRD)  # the operator installed the rollout controller's CRD
    while not _established(c.client):  # waits for the API server; asserts no timing
        c.client.forget_discovery()
    c.client.forget_discovery()
    settings = c.settings(renderer="plain", authority=Authority(
        namespaces=(c.target_ns,), cluster_kinds=("CustomResourceDefinition",)))
    rec = Reconciler(Settings(**{**settings.__dict__, "policy_floor": PolicyFloor()}), c.client, c.workdir)
    try:
        result = rec.reconcile(rec.settings.sources[0])
        applied = c.get(f"{GROUP}/v1alpha1", "Rollout", "agent") is not None
    finally:
        with contextlib.suppress(KubeError):
            c.client.delete("apiextensions.k8s.io/v1", "CustomResourceDefinition", f"rollouts.{GROUP}")
    assert not applied, ("the floor let a repo apply a privileged, hostPID, hostNetwork, hostPath / pod template "
                         "wrapped in a custom resource (its controller runs it as-is): "
                         f"{result.result}: {result.message[:300]}")
