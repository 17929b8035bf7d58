"""atk13m F3, the success path: a chart that renders, with a values.yaml of 300,000 keys (5.0 MB, under Helm's
5 MiB chart-file limit), and an image in its template, so the image-source index (``helm_sources.ValuesIndex``)
reads the values files. Bounded like every render: handoff stays well under the reconciler's 256Mi (it
renders, or fails on the node budget in one line)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.harness.tools import require_tool

from .test_atk13m_helm_error_values_memory import _CHILD, _dense_values

pytestmark = [pytest.mark.tools, pytest.mark.xfail(
    strict=False, reason="open (issue 13): the success path's image-source index parses a 5 MB values.yaml with "
    "positions; peaks measured 250-364 MiB from run to run, around the 256Mi line")]


def test_a_rendering_chart_with_dense_values_stays_bounded(tmp_path: Path) -> None:
    require_tool("helm")
    repo = tmp_path / "repo"
    chart = repo / "chart"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: web\nversion: 0.1.0\n", encoding="utf-8")
    (chart / "templates" / "pod.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers:\n"
        "    - {name: web, image: \"registry.example/web:{{ .Values.k0 }}\"}\n", encoding="utf-8")
    (chart / "values.yaml").write_text(_dense_values(300_000), encoding="utf-8")
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    done = subprocess.run([sys.executable, "-c", _CHILD, str(repo)], env=env, capture_output=True, text=True,
                          timeout=900, check=False)
    assert done.stdout.strip(), done.stderr[-500:]
    peak = int(done.stdout.strip().splitlines()[-1])
    assert "rendered" in done.stderr or "node YAML budget" in done.stderr, done.stderr[-300:]
    assert peak < 256, f"{peak} MiB rendering a chart with a 5 MB values.yaml: {done.stderr[-300:]}"
