"""atk13c: a Rego policy formatting a local string with ``sprintf`` crashes validate with a traceback.

``sprintf("%s", [x])`` where ``x`` is a string that does not come from ``input`` (a literal bound to a
variable, ``opa.runtime().env.HOME``) makes rego-cpp return a result text that is not JSON; regopy's
``Output`` then raises ``json.JSONDecodeError`` from ``Interpreter.query``, which
``handoff/policy/rego.py`` (``RegoEngine._query``, called from ``__init__`` to compile) does not catch: the
CLI prints ``handoff: unexpected error: JSONDecodeError …`` and a crash log instead of one line naming the
policy file. Bad input from the config repo must get a one-line ``HandoffError`` (or the finding itself).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

CONFIG = "environments:\n  dev: {render: {type: plain, path: envs/dev}}\npolicies:\n  dirs: [policy]\n"
CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\ndata: {a: b}\n"
POLICY = ('package main\nimport rego.v1\ndeny contains msg if {\n  team := "payments"\n'
          '  msg := sprintf("%s must label its objects", [team])\n}\n')


def test_a_rego_sprintf_of_a_local_string_is_a_finding_or_one_line_not_a_crash(tmp_path: Path) -> None:
    pytest.importorskip("regopy")
    repo = tmp_path / "repo"
    for name, text in {".handoff.yaml": CONFIG, "envs/dev/cm.yaml": CM, "policy/team.rego": POLICY}.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    done = subprocess.run([sys.executable, "-m", "handoff", "validate", "--config-repo", str(repo), "--env", "dev"],
                          cwd=repo, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert "unexpected error" not in done.stderr, (
        f"a Rego sprintf of a local string crashed validate instead of a finding or a one-line error: {done.stderr}")
    assert done.returncode == 1
    assert "payments must label its objects" in done.stdout or (
        len(done.stderr.strip().splitlines()) == 1 and "policy/team.rego" in done.stderr), done.stdout + done.stderr
