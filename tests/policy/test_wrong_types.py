"""A wrong-typed value (``image: 3``) gives a clear finding from the built-in pack, never a CEL error
text, and nothing on stderr (the cel binding logs every failing Python function)."""

from __future__ import annotations

from pathlib import Path

import pytest

from handoff.cli import main
from handoff.policy.cel_engine import CelEngine
from handoff.policy.fixtures import objects_from_yaml
from handoff.policy.model import PolicyContext
from handoff.policy.pack import builtin_dir, load_policy_file

WRONG_TYPES = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: app
          image: 3
          imagePullPolicy: 7
          resources: {limits: {cpu: true, memory: [1]}, requests: {cpu: {}, memory: false}}
          securityContext: {runAsNonRoot: "yes", privileged: "no", allowPrivilegeEscalation: 0}
          livenessProbe: 1
          readinessProbe: "x"
      volumes:
        - name: v
          hostPath: 5
"""


def pack_findings(text: str, fast: bool = True) -> list[str]:
    policies = [load_policy_file(p) for p in sorted(builtin_dir().glob("*.yaml"))]
    context = PolicyContext(params={"require-image-digest.enabled": True,
                                    "allowed-registries.registries": ["x.io"]})
    report = CelEngine(policies, fast=fast).evaluate(objects_from_yaml(text, "d.yaml"), context)
    return [f"{f.rule} {f.path}: {f.message}" for f in report.findings]


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "slow"])
def test_wrong_typed_values_give_clear_findings(fast: bool, capsys: pytest.CaptureFixture[str]) -> None:
    found = pack_findings(WRONG_TYPES, fast)
    assert not [f for f in found if "could not be evaluated" in f or "Python function" in f]
    assert ("disallow-latest-tag spec.template.spec.containers[0].image: cannot be checked: "
            "a value this policy reads has the wrong type (this field is a number: 3)") in found
    assert capsys.readouterr().err == ""


def test_wrong_typed_image_through_the_cli_prints_nothing_on_stderr(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "d.yaml").write_text(WRONG_TYPES)
    code = main(["validate", "--engine", "builtin", "--config-repo", str(tmp_path), str(tmp_path / "d.yaml")])
    out, err = capsys.readouterr()
    assert code == 1
    assert err == ""
    assert "could not be evaluated" not in out
    assert "image: 3 is not of types" in out  # the schema finding names the field's expected type
    assert "cannot be checked: a value this policy reads has the wrong type (this field is a number: 3)" in out


def test_right_types_leave_no_wrong_type_finding() -> None:
    right = WRONG_TYPES.replace("image: 3", "image: 'x.io/a:1'").replace("imagePullPolicy: 7", "imagePullPolicy: Always")
    assert not any("cannot be checked" in f for f in pack_findings(right))
