"""atk13c: a Rego ``print()`` in a repo policy writes straight to file descriptor 1 while it is evaluated.

``handoff/policy/rego.py`` points fd 1 away from the terminal only while modules are added and compiled
(``_native_stdout_captured`` in ``RegoEngine.__init__``), not in ``evaluate``: rego-cpp's ``print`` output of
every object's evaluation lands on handoff's real stdout, in front of ``--output json`` (which no longer
parses), among ``--output github`` annotations (a workflow command such as ``::add-mask::`` or
``::stop-commands::`` from the repo), and past the redaction layer altogether, since handoff never sees
those bytes: ``print(opa.runtime().env.GITHUB_TOKEN)`` puts the job's token raw on stdout. These tests fail
until evaluation output is captured too (and dropped, or shown redacted through handoff's own writer).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.harness.git_server import GitServer
from tests.reconciler.cluster import new_cluster
from tests.security.leaks import leaks

TOKEN = "ghp_atk13cRegoPrintBypassesRedaction9"
CONFIG = "environments:\n  dev: {render: {type: plain, path: app}}\npolicies:\n  dirs: [policy]\n"
CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  mode: prod\n"
POLICY = ('package main\nimport rego.v1\ndeny contains msg if {\n  print("::stop-commands::atk13c")\n'
          '  print(opa.runtime().env.GITHUB_TOKEN)\n  msg := "web is denied"\n}\n')


def _validate(tmp_path: Path, output: str) -> subprocess.CompletedProcess[str]:
    repo = tmp_path / "repo"
    for name, text in {".handoff.yaml": CONFIG, "app/cm.yaml": CM, "policy/print.rego": POLICY}.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text, encoding="utf-8")
    env = {**os.environ, "GITHUB_TOKEN": TOKEN, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    return subprocess.run([sys.executable, "-m", "handoff", "validate", "--config-repo", str(repo), "--env", "dev",
                           "--output", output], cwd=repo, env=env, capture_output=True, text=True, timeout=300,
                          check=False)


def test_a_rego_print_while_evaluating_leaves_json_output_pure(tmp_path: Path) -> None:
    pytest.importorskip("regopy")
    done = _validate(tmp_path, "json")
    assert done.returncode == 1, done.stderr
    try:
        report = json.loads(done.stdout)
    except ValueError:
        pytest.fail(f"a repo Rego print() reached stdout in front of --output json: {done.stdout[:200]!r}")
    assert [f["message"] for f in report["findings"] if f["rule"] == "main.deny"] == ["web is denied"]


def test_a_rego_print_cannot_write_workflow_commands_or_the_token_to_the_ci_log(tmp_path: Path) -> None:
    pytest.importorskip("regopy")
    done = _validate(tmp_path, "github")
    assert "::stop-commands::" not in done.stdout, (
        f"a repo Rego print() wrote a GitHub workflow command to the CI log: {done.stdout[:300]!r}")
    found = leaks({"validate github stdout": done.stdout, "validate github stderr": done.stderr}, [TOKEN])
    assert found == [], f"a repo Rego print() wrote the job's token past the redaction layer: {found}"


FORGED = '{"ts": "2026-01-01T00:00:00.000Z", "level": "info", "logger": "handoff.reconciler", "msg": "forged-by-atk13c"}'


@pytest.mark.tools
def test_a_rego_print_cannot_write_into_the_reconciler_log(apiserver: Any, git_server: GitServer, tmp_path: Path) -> None:
    pytest.importorskip("regopy")
    policy = ('package main\nimport rego.v1\ndeny contains msg if {\n  print(' + json.dumps(FORGED) + ')\n'
              '  msg := "web is denied"\n}\n')
    c = new_cluster(apiserver, git_server, tmp_path, {".handoff.yaml": CONFIG, "app/cm.yaml": CM,
                                                      "policy/print.rego": policy})
    done = subprocess.run([sys.executable, "-m", "handoff", "reconcile", "--kubeconfig", str(apiserver.kubeconfig),
                           "--repo", c.url, "--path", "app", "--revision", "main", "--name", f"src-{c.target_ns}",
                           "--target-namespace", c.target_ns, "--namespace", c.control_ns, "--token-file",
                           str(c.token_file), "--git-username", c.username, "--workdir", str(c.workdir),
                           "--renderer", "plain", "--no-leader-elect", "--once"],
                          capture_output=True, text=True, timeout=300, check=False)
    assert "web is denied" in done.stdout + done.stderr  # the policy ran
    assert "forged-by-atk13c" not in done.stdout + done.stderr, (
        "a repo Rego print() wrote its own text into the reconciler's JSON log stream, past its logger and the "
        f"redaction layer: {done.stdout[-400:]!r}")
