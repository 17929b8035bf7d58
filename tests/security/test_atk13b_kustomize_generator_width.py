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

from handoff.errors import RenderError
from handoff.render.base import RenderSource
from handoff.render.inputs import MAX_KUSTOMIZE_ENTRIES, check_inputs
from tests.harness.tools import require_tool

pytestmark = pytest.mark.tools

LINES = 20_000  # over the width cap, yet quick for kustomize: the test needs no clock


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


def _refusal(repo: Path) -> RenderError:
    with pytest.raises(RenderError) as caught:
        check_inputs(repo, RenderSource(repo / "app"), "kustomize")
    return caught.value


def test_generator_literals_files_and_env_lines_share_one_budget(tmp_path: Path) -> None:
    """No one list is over the cap, but the keys all generators of the tree write are: refused at the
    entry that crosses it, naming the kustomization, its line and key."""
    repo, app, base = tmp_path, tmp_path / "app", tmp_path / "base"
    app.mkdir()
    base.mkdir()
    third = MAX_KUSTOMIZE_ENTRIES // 3 + 1
    (base / "kustomization.yaml").write_text(
        "secretGenerator:\n- name: lits\n  literals:\n" + "".join(f"  - l{i}=v\n" for i in range(third)))
    (app / "a.env").write_text("# a comment, not a key\n\n" + "".join(f"e{i}=a\n" for i in range(third)))
    for i in range(third):
        (app / f"f{i}.txt").write_text("x")
    (app / "kustomization.yaml").write_text(
        "resources: [../base]\nconfigMapGenerator:\n- name: env\n  envs: [a.env]\n- name: files\n  files:\n"
        + "".join(f"  - f{i}.txt\n" for i in range(third)))
    error = _refusal(repo)
    assert "entries over" in str(error) and error.file == "app/kustomization.yaml", str(error)
    assert error.key is not None and error.key.startswith("configMapGenerator[1].files["), str(error)
    assert error.line is not None and error.line > 6, str(error)


def test_an_env_file_referenced_twice_counts_twice(tmp_path: Path) -> None:
    app = tmp_path / "app"
    app.mkdir()
    (app / "a.env").write_text("".join(f"e{i}=a\n" for i in range(MAX_KUSTOMIZE_ENTRIES // 2 + 1)))
    (app / "kustomization.yaml").write_text(
        "configMapGenerator:\n- name: one\n  envs: [a.env]\n- name: two\n  envs: [a.env]\n")
    error = _refusal(tmp_path)
    assert error.key == "configMapGenerator[1].envs[0]" and error.line == 5, str(error)


def test_generators_under_the_budget_pass(tmp_path: Path) -> None:
    app = tmp_path / "app"
    app.mkdir()
    (app / "a.env").write_text("A=1\nB=2\n")
    (app / "kustomization.yaml").write_text(
        "configMapGenerator:\n- name: one\n  envs: [a.env]\n  literals: [C=3]\n")
    check_inputs(tmp_path, RenderSource(app), "kustomize")
