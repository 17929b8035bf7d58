"""atk14c: reading the reconciler's own credentials without its ServiceAccount. The guard refuses pods that
run *as* the reconciler's ServiceAccount (``runs_as_reconciler``), but any pod in a namespace may mount any
Secret of it: a workload in the reconciler's namespace that mounts ``handoff-git-credentials`` (the token
that fetches, and in CI pushes, every config repo) or takes it through ``envFrom`` holds the reconciler's
credentials. An ``authority:`` block that lists only kinds grants every namespace ("namespaces ... default
all", docs/reconciler.md), the reconciler's own included. issue 14: "No source can apply, patch or prune
the reconciler's ... config" and credentials (guard.py). Real kube-apiserver + etcd and git server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from handoff.reconciler.config import Authority
from handoff.reconciler.manifests import GIT_CREDENTIALS_SECRET
from handoff.reconciler.status import REFUSED

from .cluster import new_cluster

pytestmark = [pytest.mark.tools, pytest.mark.slow]

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\ndata: {rev: \"1\"}\n"


def _deployment(namespace: str, how: str) -> str:
    volume = (f"      volumes: [{{name: creds, secret: {{secretName: {GIT_CREDENTIALS_SECRET}}}}}]\n"
              if how == "volume" else "")
    mount = "          volumeMounts: [{name: creds, mountPath: /creds}]\n" if how == "volume" else \
        f"          envFrom: [{{secretRef: {{name: {GIT_CREDENTIALS_SECRET}}}}}]\n"
    return f"""apiVersion: apps/v1
kind: Deployment
metadata: {{name: innocent, namespace: {namespace}}}
spec:
  selector: {{matchLabels: {{app: innocent}}}}
  template:
    metadata: {{labels: {{app: innocent}}}}
    spec:
{volume}      containers:
        - name: main
          image: registry.example/agent:1.0.0
          resources: {{requests: {{cpu: 100m, memory: 64Mi}}, limits: {{cpu: 200m, memory: 128Mi}}}}
{mount}"""


@pytest.mark.parametrize("how", ["volume", "envFrom"])
def test_a_workload_mounting_the_reconcilers_git_credentials_is_refused(
        apiserver: Any, git_server: Any, tmp_path: Path, how: str) -> None:
    c = new_cluster(apiserver, git_server, tmp_path, {"app/cm.yaml": CM})
    rec = c.reconciler(renderer="plain", authority=Authority(kinds=("apps/Deployment", "ConfigMap")))
    source = rec.settings.sources[0]
    assert rec.reconcile(source).ok
    c.repo.commit({"app/innocent.yaml": _deployment(c.control_ns, how)}, "a helper next to the reconciler")
    result = rec.reconcile(source)
    applied = c.client.get("apps/v1", "Deployment", "innocent", c.control_ns) is not None
    assert not applied, ("a repo mounted the reconciler's git credentials into its own workload: "
                         f"{result.result}: {result.message}")
    assert result.result == REFUSED, result.message
