"""regopy (rego-cpp) prints compile errors straight to file descriptor 1. `handoff validate --output json`
must still write nothing but its report to stdout, and the error must be one line naming the file.

These run the CLI as a real process: only then does a native write to fd 1 reach the captured stdout.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from handoff.errors import ConfigError
from handoff.policy.fixtures import objects_from_yaml
from handoff.policy.model import PolicyContext
from handoff.policy.rego import RegoEngine

CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: apps\ndata: {a: b}\n"


def validate_json(tmp_path: Path, rego: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "guard.rego").write_text(rego)
    (tmp_path / "cm.yaml").write_text(CONFIGMAP)
    return subprocess.run([sys.executable, "-m", "handoff", "validate", "--output", "json", "--policies", "policies",
                           "cm.yaml"], cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.parametrize("rego, line", [
    ("package main\n\ndeny[msg] {\n  input.kind == \n}\n", 4),
    ("package main\nimport rego.v1\n\ndeny contains msg if {\n", 4),
])
def test_a_broken_rego_file_is_one_error_line_and_nothing_on_stdout(tmp_path: Path, rego: str, line: int) -> None:
    done = validate_json(tmp_path, rego)
    assert done.returncode == 2
    assert done.stdout == ""  # regopy's "Errors: ... Pass collections failed" banner is gone
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith(f"handoff: error: policies/guard.rego:{line}: Rego: ")


def test_a_good_rego_file_leaves_stdout_pure_json(tmp_path: Path) -> None:
    done = validate_json(tmp_path, 'package main\nimport rego.v1\ndeny contains "no ConfigMaps" if '
                                   '{ input.kind == "ConfigMap" }\n')
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert [f["message"] for f in report["findings"] if f["rule"] == "main.deny"] == ["no ConfigMaps"]


def test_an_evaluation_error_is_one_line_naming_the_file(tmp_path: Path) -> None:
    rego = tmp_path / "conflict.rego"
    rego.write_text('package main\nimport rego.v1\nx := input.kind\nx := "other"\n'
                    'deny contains msg if { msg := sprintf("%v", [x]) }\n')
    with pytest.raises(ConfigError) as info:
        RegoEngine([rego]).evaluate(objects_from_yaml(CONFIGMAP, "cm.yaml"), PolicyContext())
    assert str(info.value).startswith(f"{rego}: Rego: evaluating data.main failed")  # was "Rego: <error>"
    assert "\n" not in str(info.value)
