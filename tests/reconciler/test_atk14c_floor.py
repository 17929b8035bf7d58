"""atk14c: the default grant is "any namespaced kind in its own namespace"; what keeps a Pod there from
reaching the node is the operator's policy floor, which refuses ``privileged`` and ``hostPath`` only. A Pod
sharing the node's PID, network or IPC namespace, or adding ``SYS_ADMIN``, is not privileged, yet each is
outside Pod Security ``baseline`` because it reaches beyond the namespace: ``hostPID`` sees every process of
the node (command lines with their secrets) and, as root, may signal the node's root processes (the
kubelet, other pods' containers); ``hostNetwork`` reaches the node's loopback services and the metadata
endpoint as the node. "Never more authority than the operator grants
a source" (issue 14). Real kube-apiserver + etcd and git server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from handoff.reconciler.config import PolicyFloor, Settings
from handoff.reconciler.loop import Reconciler

from .cluster import new_cluster

pytestmark = [pytest.mark.tools, pytest.mark.slow]


def _pod(spec: str, container: str) -> str:
    return f"""apiVersion: v1
kind: Pod
metadata: {{name: agent}}
spec:
{spec}  containers:
    - name: main
      image: registry.example/agent:1.0.0
      resources: {{requests: {{cpu: 100m, memory: 64Mi}}, limits: {{cpu: 200m, memory: 128Mi}}}}
{container}"""


@pytest.mark.parametrize(("spec", "container"), [
    ("  hostPID: true\n", ""),
    ("  hostNetwork: true\n", ""),
    ("  hostIPC: true\n", ""),
    ("", "      securityContext: {capabilities: {add: [SYS_ADMIN]}}\n"),
], ids=["hostPID", "hostNetwork", "hostIPC", "cap-SYS_ADMIN"])
def test_the_default_floor_refuses_a_pod_that_reaches_the_node(apiserver: Any, git_server: Any,
                                                              tmp_path: Path, spec: str, container: str) -> None:
    c = new_cluster(apiserver, git_server, tmp_path, {"app/pod.yaml": _pod(spec, container)})
    settings = c.settings(renderer="plain")
    rec = Reconciler(Settings(**{**settings.__dict__, "policy_floor": PolicyFloor()}), c.client, c.workdir)
    result = rec.reconcile(rec.settings.sources[0])
    applied = c.get("v1", "Pod", "agent") is not None
    assert not applied, \
        f"the default grant and floor let a repo run a Pod reaching the node: {result.result}: {result.message}"
