"""atk13b: the width cap on kustomize inputs (``MAX_KUSTOMIZE_ENTRIES``) is applied to YAML inputs only.

``handoff/render/inputs.py`` ``_KustomizeInputs._charge`` is called with ``yaml=False`` for every
``configMapGenerator``/``secretGenerator`` file, so it counts only the bytes. An ``envs:`` file of 100,000
``kN=a`` lines (900 kB, under every byte cap) makes kustomize generate a ConfigMap of 100,000 keys: the
same superlinear kustomize work atk13's dense resource caused (50,000 lines: 11 s, 117 MiB RSS, and
validate passes). Every CI check and reconciler pass on such a commit then burns up to the child timeout.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.harness.tools import require_tool

pytestmark = pytest.mark.tools

LINES = 20_000  # over the width cap, yet quick for kustomize: the test needs no clock


@pytest.mark.xfail(strict=True, reason="open (issue 13, atk13b): generator env/files are charged by bytes only, not against the width cap")
def test_a_dense_generator_env_file_is_refused_fast(tmp_path: Path) -> None:
    require_tool("kustomize")
    repo = tmp_path / "repo"
    app = repo / "app"
    app.mkdir(parents=True)
    (repo / ".handoff.yaml").write_text("environments:\n  dev: {render: {type: kustomize, path: app}}\n")
    (app / "kustomization.yaml").write_text("configMapGenerator:\n- name: dense\n  envs: [dense.env]\n")
    (app / "dense.env").write_text("".join(f"k{i}=a\n" for i in range(LINES)))
    done = subprocess.run([sys.executable, "-m", "handoff", "validate", "--config-repo", str(repo)],
                          capture_output=True, text=True, cwd=repo, timeout=600, check=False,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
    assert done.returncode != 0 and "entries" in done.stdout + done.stderr, (
        f"a generator env file of {LINES} entries (over the 10,000-entry width cap) was not refused before "
        f"kustomize ran (rc {done.returncode}): {(done.stdout + done.stderr)[-400:]}")
