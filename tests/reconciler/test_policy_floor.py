"""The operator's policy floor: a revision's .handoff.yaml cannot switch off or waive away the policies the
reconciler config makes mandatory; what the repo waived or disabled is listed in status."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from handoff.config import Waiver
from handoff.reconciler.config import PolicyFloor, Settings
from handoff.reconciler.loop import Reconciler
from handoff.reconciler.status import FAILED, SUCCEEDED

from .cluster import Cluster, new_cluster

pytestmark = [pytest.mark.tools, pytest.mark.slow]


def pod(name: str, *, privileged: bool, host_path: bool) -> str:
    security = "      securityContext: {privileged: true}\n" if privileged else ""
    mounts = "      volumeMounts: [{name: root, mountPath: /host}]\n" if host_path else ""
    volumes = "  volumes: [{name: root, hostPath: {path: /}}]\n" if host_path else ""
    return f"""apiVersion: v1
kind: Pod
metadata: {{name: {name}}}
spec:
  containers:
    - name: main
      image: registry.example/agent:1.0.0
      resources: {{requests: {{cpu: 100m, memory: 64Mi}}, limits: {{cpu: 200m, memory: 128Mi}}}}
{security}{mounts}{volumes}"""


def reconciler(c: Cluster, policy_floor: PolicyFloor | None = None) -> Reconciler:
    settings = c.settings(renderer="plain")
    floor = policy_floor or PolicyFloor()
    return Reconciler(Settings(**{**settings.__dict__, "policy_floor": floor}), c.client, c.workdir)


def policy_status(c: Cluster) -> dict[str, Any]:
    return dict(json.loads(c.status()["policy"]))


@pytest.mark.parametrize("handoff_yaml", [
    "policies: {builtin: false}\n",
    "policies: {disable: [disallow-privileged, disallow-host-path]}\n",
    'waivers:\n  - {policy: "*", match: {kind: "*"}, reason: everything is fine}\n',
    "policies: {builtin: false}\nwaivers:\n  - {policy: \"*\", match: {}, reason: all}\n",
], ids=["builtin-false", "disable", "wildcard-waiver", "both"])
def test_the_repo_cannot_switch_the_floor_off(apiserver: Any, git_server: Any, tmp_path: Path,
                                              handoff_yaml: str) -> None:
    c = new_cluster(apiserver, git_server, tmp_path, {
        ".handoff.yaml": handoff_yaml, "app/pod.yaml": pod("escape", privileged=True, host_path=True)})
    rec = reconciler(c)
    result = rec.reconcile(rec.settings.sources[0])
    assert result.result == FAILED, result.message
    assert "is invalid" in result.message and ("host path" in result.message or "privileged" in result.message)
    assert c.get("v1", "Pod", "escape") is None


def test_only_operator_allowed_waivers_pass_a_floor_finding_and_status_lists_them(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    handoff_yaml = ("policies: {disable: [require-probes]}\n"
                    "waivers:\n  - {policy: disallow-host-path, match: {name: node-agent}, reason: reads node logs}\n")
    c = new_cluster(apiserver, git_server, tmp_path, {
        ".handoff.yaml": handoff_yaml, "app/pod.yaml": pod("node-agent", privileged=False, host_path=True)})
    # without the operator's consent the repo's waiver does not cover a floor policy
    denied = reconciler(c).reconcile(reconciler(c).settings.sources[0])
    assert denied.result == FAILED and "host path" in denied.message, denied.message
    assert c.get("v1", "Pod", "node-agent") is None

    allowed = PolicyFloor(waivers=(Waiver(policy="disallow-host-path", match={"name": "node-agent"},
                                          reason="node agents read /var/log"),))
    rec = reconciler(c, allowed)
    result = rec.reconcile(rec.settings.sources[0])
    assert result.result == SUCCEEDED, result.message
    assert c.get("v1", "Pod", "node-agent") is not None
    listed = policy_status(c)
    assert listed["disabled"] == ["require-probes"]
    assert any("disallow-host-path" in w and ".handoff.yaml" in w for w in listed["waivers"]), listed
    assert any("policyFloor.waivers[0]" in w and "node agents read /var/log" in w for w in listed["waivers"])

    # an operator waiver the repo did not ask for waives nothing
    c.repo.commit({".handoff.yaml": "policies: {disable: [require-probes]}\n",
                   "app/pod.yaml": pod("node-agent-2", privileged=False, host_path=True)}, "no waiver asked")
    unasked = rec.reconcile(rec.settings.sources[0])
    assert unasked.result == FAILED and "host path" in unasked.message, unasked.message


def test_a_repo_disabling_the_builtin_pack_is_listed_in_status(apiserver: Any, git_server: Any,
                                                               tmp_path: Path) -> None:
    c = new_cluster(apiserver, git_server, tmp_path, {
        ".handoff.yaml": "policies: {builtin: false}\n", "app/pod.yaml": pod("web", privileged=False,
                                                                              host_path=False)})
    rec = reconciler(c)
    result = rec.reconcile(rec.settings.sources[0])
    assert result.result == SUCCEEDED, result.message
    assert policy_status(c)["disabled"] == ["builtin"]
    again = rec.reconcile(rec.settings.sources[0])  # a drift pass of the same revision still says so
    assert again.ok and policy_status(c)["disabled"] == ["builtin"]
