"""A policy from the repo may print a Secret's value in its message: a CEL ``messageExpression`` or a Rego
message built from ``object.data``/``stringData``, raw or through ``base64.encode``/``hex.encode``. The
policy runner masks every sensitive value of the objects it checked, in each of those forms
(``handoff/policy/runner.py`` ``masked``), so no output of ``validate`` (text, json, junit, sarif, github,
markdown) or ``plan`` carries it. Real kustomize renders the Secret."""

from __future__ import annotations

import base64
import subprocess
import sys
from pathlib import Path

import pytest

from tests.harness.tools import require_tool
from tests.security.leaks import leaks

pytestmark = pytest.mark.tools

PASSWORD = "PolicyEcho-Password-7319"
TOKEN = "PolicyEcho-DataToken-5521"
SECRET = f"""\
apiVersion: v1
kind: Secret
metadata: {{name: creds, namespace: default}}
stringData: {{password: {PASSWORD}}}
data: {{token: {base64.b64encode(TOKEN.encode()).decode()}}}
"""
VAP = """\
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: echo-secret}
spec:
  matchConstraints:
    resourceRules:
      - {apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["secrets"]}
  validations:
    - expression: "false"
      messageExpression: "'password ' + object.stringData.password + ' token ' + object.data.token"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: echo-secret}
spec: {policyName: echo-secret, validationActions: [Deny]}
"""
REGO = """\
package main

import rego.v1

deny contains msg if {
	input.kind == "Secret"
	pw := input.stringData.password
	msg := sprintf("raw %s b64 %s hex %s data %s decoded %s",
		[pw, base64.encode(pw), hex.encode(pw), input.data.token, base64.decode(input.data.token)])
}
"""


def _repo(tmp_path: Path) -> Path:
    (tmp_path / "envs/dev").mkdir(parents=True)
    (tmp_path / "envs/dev/secret.yaml").write_text(SECRET)
    (tmp_path / "envs/dev/kustomization.yaml").write_text("resources: [secret.yaml]\n")
    (tmp_path / "policy").mkdir()
    (tmp_path / "policy/echo.yaml").write_text(VAP)
    (tmp_path / "policy/echo.rego").write_text(REGO)
    (tmp_path / ".handoff.yaml").write_text("environments:\n  dev: {render: {type: kustomize, path: envs/dev}}\n"
                                            "policies:\n  dirs: [policy]\n")
    return tmp_path


def test_policy_messages_echoing_a_secret_leak_it_nowhere(tmp_path: Path) -> None:
    require_tool("kustomize")
    repo = _repo(tmp_path)
    texts: dict[str, str] = {}
    for output in ("text", "json", "junit", "sarif", "github", "markdown"):
        report = tmp_path / f"report.{output}"
        done = subprocess.run([sys.executable, "-m", "handoff", "validate", "--config-repo", str(repo),
                               "--env", "dev", "--output", output, "--output-file", str(report)],
                              capture_output=True, text=True, timeout=300, check=False)
        assert done.returncode == 1, done.stderr
        texts[f"{output} stdout"], texts[f"{output} stderr"] = done.stdout, done.stderr
        texts[f"{output} report"] = report.read_text()
    plan = subprocess.run([sys.executable, "-m", "handoff", "plan", "--config-repo", str(repo), "--env", "dev",
                           "--output", "json"], capture_output=True, text=True, timeout=300, check=False)
    texts["plan stdout"], texts["plan stderr"] = plan.stdout, plan.stderr
    assert "echo-secret" in texts["json report"] and "raw <secret sha256:" in texts["json report"]
    assert "password <secret sha256:" in texts["json report"]
    assert leaks(texts, [PASSWORD, TOKEN]) == []
