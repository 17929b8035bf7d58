"""atk13c: a Rego policy in the config repo reads the CI job's whole environment through ``opa.runtime()``.

Rego runs in-process (``handoff/policy/rego.py``, regopy/rego-cpp), so it sees handoff's own environment,
not the allow-listed one the renderer children get (``handoff/toolrun.py`` ``sandboxed``). rego-cpp
implements ``opa.runtime()``, whose ``env`` holds every variable of the job: ``GITHUB_TOKEN``,
``CI_JOB_TOKEN``, cloud keys. A ``.handoff.yaml`` ``policies.dirs`` entry is repository content, so whoever
can open a PR writes a ``deny`` rule whose message is that token, hex-encoded (or upper-cased, or split into
characters): the redaction layer (``handoff/redact.py``) masks only registered tokens raw, URL-encoded and
base64, and ``validate`` registers none. The message lands in validate's output (every format) and in the
proposal ``propose`` pushes. These tests fail until Rego cannot read the environment (``opa.runtime``
refused or answering an empty ``env``, as conftest's ``--no-env``-style hardening would).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.harness.git_server import GitServer
from tests.propose.helpers import propose_on, show
from tests.security.leaks import leaks

pytestmark = pytest.mark.tools

FORGE_TOKEN = "ghp_atk13cRegoReadsTheEnvironment0001"
JOB_TOKEN = "glcbt-atk13c-job-token-0002"
CLOUD_KEY = "atk13c/cloud+secret/key0003"
JOB_ENV = {"GITHUB_TOKEN": FORGE_TOKEN, "CI_JOB_TOKEN": JOB_TOKEN, "AWS_SECRET_ACCESS_KEY": CLOUD_KEY}

CONFIG = """\
environments:
  dev: {render: {type: plain, path: envs/dev}}
apps:
  web:
    image: registry.example/web
    targets:
      - {type: marker, path: envs/dev/deployment.yaml}
policies:
  dirs: [policy]
"""
DEPLOYMENT = """\
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
        - name: web
          image: registry.example/web:1.0.0 # handoff:image web
"""
# each variable raw (masked only if registered), hex-encoded and upper-cased (never masked)
POLICY = """\
package main
import rego.v1
deny contains msg if {
  env := opa.runtime().env
  some name in ["GITHUB_TOKEN", "CI_JOB_TOKEN", "AWS_SECRET_ACCESS_KEY"]
  value := env[name]
  msg := concat(" ", [name, "raw", value, "hex", hex.encode(value), "upper", upper(value)])
}
# proof that the file was evaluated and its findings reach the output, whatever opa.runtime() answers (an
# empty env leaves the rule above undefined: no finding at all)
deny contains "env.rego evaluated: GITHUB_TOKEN and the others looked up in opa.runtime().env" if { true }
"""
FILES = {".handoff.yaml": CONFIG, "envs/dev/deployment.yaml": DEPLOYMENT, "policy/env.rego": POLICY}


def _write(root: Path) -> Path:
    for name, text in FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


def test_a_repo_rego_policy_cannot_print_the_jobs_tokens_in_validate_output(tmp_path: Path) -> None:
    pytest.importorskip("regopy")
    repo = _write(tmp_path / "repo")
    env = {**os.environ, **JOB_ENV, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    texts: dict[str, str] = {}
    for output in ("text", "json", "markdown", "sarif"):
        done = subprocess.run([sys.executable, "-m", "handoff", "validate", "--config-repo", str(repo), "--env", "dev",
                               "--output", output], cwd=repo, env=env, capture_output=True, text=True, timeout=300,
                              check=False)
        texts[f"validate {output} stdout"], texts[f"validate {output} stderr"] = done.stdout, done.stderr
    assert any("main.deny" in t or "GITHUB_TOKEN" in t for t in texts.values()), texts  # the policy ran
    found = leaks(texts, list(JOB_ENV.values()))
    assert found == [], (
        "a Rego policy from the config repo read the job's environment through opa.runtime().env and printed "
        f"its tokens in validate's output: {sorted({(w, f) for w, _, f in found})}")


def test_a_repo_rego_policy_cannot_put_the_forge_token_in_the_proposal(git_server: GitServer,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("regopy")
    for name, value in JOB_ENV.items():  # propose runs in this process: its environment is the job's
        monkeypatch.setenv(name, value)
    url = git_server.create_repo("rego-env", dict(FILES))
    result = propose_on(git_server, url, "registry.example/web:1.1.0", on_invalid="comment")
    assert result.operation == "created", result.message
    bodies = {name: show(git_server, "rego-env", "handoff/dev/web", f".handoff/proposals/dev-web.{name}")
              for name in ("md", "json")}
    bodies["result body"] = result.body
    assert any("GITHUB_TOKEN" in b for b in bodies.values()), bodies  # the finding is in the proposal
    found = leaks(bodies, list(JOB_ENV.values()))
    assert found == [], (
        "a Rego policy from the config repo read the CI job's forge token from opa.runtime().env and propose "
        f"pushed it in the proposal body: {sorted({(w, f) for w, _, f in found})}")
