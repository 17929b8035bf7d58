"""atk14d: the floor's Pod Security baseline reads AppArmor only from ``securityContext.appArmorProfile``.
The annotation spelling, ``container.apparmor.security.beta.kubernetes.io/<container>: unconfined`` on
the pod (or pod template) metadata, is still honoured by the kubelet and is what upstream baseline checks
first (``appArmorProfile`` annotations and fields alike); a repo using it runs a container with AppArmor
off under the default floor. "The policy floor holds against the repo" (issue 14). Real kube-apiserver +
etcd and git server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from handoff.reconciler.config import PolicyFloor, Settings
from handoff.reconciler.loop import Reconciler

from .cluster import new_cluster

pytestmark = [pytest.mark.tools, pytest.mark.slow]

_DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata: {name: agent}
spec:
  replicas: 1
  selector: {matchLabels: {app: agent}}
  template:
    metadata:
      labels: {app: agent}
      annotations:
        container.apparmor.security.beta.kubernetes.io/main: unconfined
    spec:
      containers:
        - name: main
          image: registry.example/agent:1.0.0
          resources: {requests: {cpu: 100m, memory: 64Mi}, limits: {cpu: 200m, memory: 128Mi}}
"""


def test_the_default_floor_refuses_apparmor_unconfined_by_annotation(apiserver: Any, git_server: Any,
                                                                    tmp_path: Path) -> None:
    c = new_cluster(apiserver, git_server, tmp_path, {"app/deploy.yaml": _DEPLOYMENT})
    settings = c.settings(renderer="plain")
    rec = Reconciler(Settings(**{**settings.__dict__, "policy_floor": PolicyFloor()}), c.client, c.workdir)
    result = rec.reconcile(rec.settings.sources[0])
    applied = c.get("apps/v1", "Deployment", "agent") is not None
    assert not applied, ("the floor let a repo run a container with AppArmor off (the annotation spelling of "
                         f"appArmorProfile Unconfined): {result.result}: {result.message}")
