"""atk13m: attacks tried against handoff's own process that HOLD (kept passing, as regression guards).

1. The kubeconform engine, handed the same CRD whose ``openAPIV3Schema`` ``$ref``s a JSON file outside the repo
   (``test_atk13m_crd_schema_ref.py``), quotes nothing of it (it reports the resource's schema as missing).
2. A PR body template whose substituted values themselves hold ``{diff}``/``{env}`` is expanded once
   (``templates.render`` is one pass): a value never re-enters the template.
3. A ``policies.dirs`` entry holding a link to an in-repo directory that loops (``loop -> .``) is loaded
   without walking it again (``Path.rglob`` does not follow directory links; ``check_tree`` keeps a seen set).
4. A chart with one link to itself under ``charts/`` (``charts/a -> ..``) is walked in linear time by
   ``chart_files`` (the exponential case needs two: ``test_atk13m_chart_link_fanout.py``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from handoff import templates
from handoff.render.chart_files import chart_files
from tests.harness.tools import require_tool
from tests.security.leaks import leaks
from tests.security.test_atk13m_crd_schema_ref import SECRET, _repo

pytestmark = pytest.mark.tools


def test_the_kubeconform_engine_quotes_no_outside_file_through_a_crd_ref(tmp_path: Path) -> None:
    require_tool("kubeconform")
    outside = tmp_path / "outside" / "creds.json"
    outside.parent.mkdir()
    outside.write_text(json.dumps({"token": SECRET}), encoding="utf-8")
    repo = _repo(tmp_path / "repo", f"file://{outside}#/token")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    done = subprocess.run([sys.executable, "-m", "handoff", "validate", "--config-repo", str(repo), str(repo / "app"),
                           "--engine", "kubeconform"], capture_output=True, text=True, timeout=300, check=False,
                          cwd=repo, env=env)
    assert leaks({"stdout": done.stdout, "stderr": done.stderr}, [SECRET]) == [], done.stdout + done.stderr


def test_a_substituted_value_is_never_expanded_again() -> None:
    out = templates.render("{diff}|{env}", {"diff": "{env}{diff}", "env": "dev"})
    assert out == "{env}{diff}|dev"


def test_a_looping_link_in_a_policy_dir_is_loaded_once(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "policies").mkdir(parents=True)
    (repo / "policies" / "loop").symlink_to(".")
    (repo / "policies" / "loop2").symlink_to(".")
    (repo / ".handoff.yaml").write_text("policies:\n  dirs: [policies]\n", encoding="utf-8")
    (repo / "app").mkdir()
    (repo / "app" / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    done = subprocess.run([sys.executable, "-m", "handoff", "validate", "--config-repo", str(repo), str(repo / "app")],
                          capture_output=True, text=True, timeout=120, check=False, cwd=repo, env=env)
    assert done.returncode in (0, 1), done.stderr[-400:]


def test_one_chart_link_to_itself_is_walked_in_linear_time(tmp_path: Path) -> None:
    chart = tmp_path / "repo" / "chart"
    (chart / "charts").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: web\nversion: 0.1.0\n", encoding="utf-8")
    (chart / "charts" / "a").symlink_to("..")
    start = time.monotonic()
    assert list(chart_files(chart, "values.schema.json", tmp_path / "repo")) == []
    assert time.monotonic() - start < 5
