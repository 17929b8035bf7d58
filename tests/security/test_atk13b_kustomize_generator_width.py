"""atk13b: the width cap on kustomize inputs (``MAX_KUSTOMIZE_ENTRIES``) is applied to YAML inputs only.

``handoff/render/inputs.py`` ``_KustomizeInputs._charge`` is called with ``yaml=False`` for every
``configMapGenerator``/``secretGenerator`` file, so it counts only the bytes. An ``envs:`` file of 100,000
``kN=a`` lines (900 kB, under every byte cap) makes kustomize generate a ConfigMap of 100,000 keys: the
same superlinear kustomize work atk13's dense resource caused (50,000 lines: 11 s, 117 MiB RSS, and
validate passes). Every CI check and reconciler pass on such a commit then burns up to the child timeout.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.harness.tools import require_tool

pytestmark = pytest.mark.tools

LINES = 100_000
DEADLINE = 30


def test_a_dense_generator_env_file_is_refused_fast(tmp_path: Path) -> None:
    require_tool("kustomize")
    repo = tmp_path / "repo"
    app = repo / "app"
    app.mkdir(parents=True)
    (repo / ".handoff.yaml").write_text("environments:\n  dev: {render: {type: kustomize, path: app}}\n")
    (app / "kustomization.yaml").write_text("configMapGenerator:\n- name: dense\n  envs: [dense.env]\n")
    (app / "dense.env").write_text("".join(f"k{i}=a\n" for i in range(LINES)))
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "handoff", "validate", "--config-repo", str(repo)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=repo,
                            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
    try:
        out, err = proc.communicate(timeout=DEADLINE)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGTERM)  # handoff kills its renderer group on SIGTERM
        out, err = proc.communicate(timeout=60)
        pytest.fail(f"validate of a {LINES}-line generator env file was still running after {DEADLINE} s "
                    "(kustomize generating a ConfigMap that wide); it should be refused before kustomize "
                    "runs, as a YAML input that wide is")
    elapsed = time.monotonic() - started
    assert proc.returncode != 0 and "entries" in out + err, (
        f"a generator env file of {LINES} entries was not refused (rc {proc.returncode}, {elapsed:.0f} s): "
        f"{(out + err)[-400:]}")
