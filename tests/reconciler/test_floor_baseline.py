"""The policy floor enforces Pod Security baseline: every pack policy marked ``podSecurity: baseline``
refuses its control as an error in the cluster, even those ``handoff validate`` reports as warnings
(issue 14, atk14c C8). No cluster needed: the floor's check runs on rendered objects."""

from __future__ import annotations

from pathlib import Path

import pytest

from handoff.errors import HandoffError
from handoff.manifests.model import RenderResult
from handoff.policy.fixtures import objects_from_yaml
from handoff.policy.pack import builtin_dir, load_policy_file
from handoff.reconciler import floor
from handoff.reconciler.config import PolicyFloor
from handoff.report.model import ValidationReport
from handoff.workflows.plan import Plan


def _pod(spec: str = "", container: str = "") -> str:
    return f"""apiVersion: v1
kind: Pod
metadata: {{name: agent}}
spec:
{spec}  containers:
    - name: main
      image: registry.example/agent:1.0.0
{container}"""


def _floor_rules(manifest: str, policy_floor: PolicyFloor | None = None) -> set[str]:
    plan = Plan(env=None, revision="r1", rendered=RenderResult(tuple(objects_from_yaml(manifest, "pod.yaml"))),
                report=ValidationReport())
    return {f.rule for f in floor.check(policy_floor or PolicyFloor(), plan, None).errors}


BASELINE_VIOLATIONS = {
    "hostPID": (_pod("  hostPID: true\n"), "disallow-host-namespaces"),
    "hostNetwork": (_pod("  hostNetwork: true\n"), "disallow-host-namespaces"),
    "hostIPC": (_pod("  hostIPC: true\n"), "disallow-host-namespaces"),
    "hostPort": (_pod(container="      ports: [{containerPort: 80, hostPort: 80}]\n"), "disallow-host-ports"),
    "privileged": (_pod(container="      securityContext: {privileged: true}\n"), "disallow-privileged"),
    "cap-SYS_ADMIN": (_pod(container="      securityContext: {capabilities: {add: [SYS_ADMIN]}}\n"),
                      "disallow-capabilities"),
    "cap-NET_RAW": (_pod(container="      securityContext: {capabilities: {add: [CHOWN, NET_RAW]}}\n"),
                    "disallow-capabilities"),
    "hostPath": (_pod("  volumes: [{name: root, hostPath: {path: /}}]\n"), "disallow-host-path"),
    "procMount": (_pod(container="      securityContext: {procMount: Unmasked}\n"), "restrict-security-options"),
    "sysctl": (_pod("  securityContext: {sysctls: [{name: kernel.msgmax, value: '1'}]}\n"),
               "disallow-unsafe-sysctls"),
    "seccomp-pod": (_pod("  securityContext: {seccompProfile: {type: Unconfined}}\n"),
                    "restrict-pod-security-options"),
    "seccomp-container": (_pod(container="      securityContext: {seccompProfile: {type: Unconfined}}\n"),
                          "restrict-security-options"),
    "apparmor": (_pod(container="      securityContext: {appArmorProfile: {type: Unconfined}}\n"),
                 "restrict-security-options"),
    "selinux-type": (_pod("  securityContext: {seLinuxOptions: {type: spc_t}}\n"), "restrict-pod-security-options"),
    "selinux-user": (_pod(container="      securityContext: {seLinuxOptions: {user: root}}\n"),
                     "restrict-security-options"),
    "hostProcess": (_pod("  securityContext: {windowsOptions: {hostProcess: true}}\n"),
                    "restrict-pod-security-options"),
}


@pytest.mark.parametrize("case", sorted(BASELINE_VIOLATIONS))
def test_the_default_floor_refuses_every_baseline_control(case: str) -> None:
    manifest, rule = BASELINE_VIOLATIONS[case]
    assert rule in _floor_rules(manifest)


def test_what_baseline_allows_passes_the_floor() -> None:
    allowed = _pod("  securityContext: {seccompProfile: {type: RuntimeDefault}, "
                   "sysctls: [{name: net.ipv4.ip_local_port_range, value: '1024 65535'}]}\n",
                   "      ports: [{containerPort: 8080}]\n"
                   "      securityContext: {capabilities: {drop: [ALL], add: [NET_BIND_SERVICE]}, procMount: Default,\n"
                   "                        appArmorProfile: {type: RuntimeDefault}, seLinuxOptions: {level: 's0:c1,c2'}}\n")
    assert _floor_rules(allowed) == set()


def test_restricted_only_policies_stay_out_of_the_floor_as_errors() -> None:
    # no runAsNonRoot, no allowPrivilegeEscalation: false (restricted's controls, warnings in the pack)
    assert _floor_rules(_pod()) == set()


def test_an_operator_floor_naming_policies_keeps_only_those() -> None:
    manifest = _pod("  hostPID: true\n", "      ports: [{containerPort: 80, hostPort: 80}]\n")
    assert _floor_rules(manifest, PolicyFloor(policies=("disallow-host-ports",))) == {"disallow-host-ports"}


def test_every_baseline_policy_of_the_pack_is_tagged() -> None:
    tagged = {p.stem for p in builtin_dir().glob("*.yaml") if load_policy_file(p).pod_security == "baseline"}
    assert tagged == {rule for _, rule in BASELINE_VIOLATIONS.values()}


def test_an_unknown_pod_security_level_names_the_file_and_key(tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text("id: mine\nseverity: warning\ndescription: x\npodSecurity: privileged\n"
                                        "validations:\n  - expression: 'true'\n")
    with pytest.raises(HandoffError) as error:
        load_policy_file(tmp_path / "mine.yaml")
    assert "mine.yaml" in str(error.value) and "podSecurity" in str(error.value)
