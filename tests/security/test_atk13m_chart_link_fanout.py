"""atk13m: two in-repo symlinks under a chart's ``charts/`` make handoff's own chart walk exponential.

Attack. ``chart_files`` (``handoff/render/chart_files.py`` ``_directory``) walks ``chart/charts/*`` for every
``values.schema.json`` (before helm runs, from ``RemoteScan.chart`` in ``handoff/render/remote.py``) and
every ``values.yaml`` (when helm fails, ``render/helm.py`` ``template``). It follows each entry that
``is_dir()`` (links included) and stops only at ``_MAX_DEPTH = 50``; unlike ``RemoteScan.chart`` and
``pathsafe.check_tree`` it keeps no set of directories already seen. ``charts/a -> ..`` and ``charts/b -> ..``
are links to the chart itself, inside the repo and not to a directory holding ``.git``, so
``check_inputs`` (``check_tree(..., refuse_git_dirs=True)``) lets them through; ``RemoteScan.chart`` sees each
subchart's ``Chart.yaml`` once. The walk then visits 2^50 paths (``charts/a/charts/b/charts/a/…``), all short
enough for the OS.

Observed: ``handoff validate --env dev`` on such a repo never returns: the parent process spins in
``chart_files._directory`` (``Path.is_dir`` / ``stat``) before helm is even started; a reconciler pass on the
same revision stalls the same way (every source behind it waits). Four files and two links.

Responsible: ``handoff/render/chart_files.py`` ``_directory`` (no visited set; a depth bound is not a bound
on the number of paths), reached from ``handoff/render/remote.py`` ``RemoteScan.chart``.

What should hold: a render of repository content finishes (or is refused with one line) in bounded time:
the chart walk visits each real directory once, or refuses a chart link to the chart or to one of its
parents, as Helm's loader would loop on it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.harness.tools import require_tool

pytestmark = pytest.mark.tools


def _repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    chart = repo / "chart"
    (chart / "templates").mkdir(parents=True)
    (chart / "charts").mkdir()
    (repo / ".handoff.yaml").write_text("environments:\n  dev: {render: {type: helm, path: chart}}\n",
                                        encoding="utf-8")
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: web\nversion: 0.1.0\n", encoding="utf-8")
    (chart / "templates" / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\n",
                                                 encoding="utf-8")
    (chart / "charts" / "a").symlink_to("..")
    (chart / "charts" / "b").symlink_to("..")
    return repo


def test_two_chart_links_to_the_chart_hang_validate(tmp_path: Path) -> None:
    require_tool("helm")
    repo = _repo(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    try:
        done = subprocess.run([sys.executable, "-m", "handoff", "validate", "--config-repo", str(repo),
                               "--env", "dev"], cwd=repo, env=env, capture_output=True, text=True, timeout=60,
                              check=False)
    except subprocess.TimeoutExpired:
        raise AssertionError("`handoff validate` did not finish in 60 s on a chart holding charts/a -> .. and "
                             "charts/b -> .. (chart_files._directory walks 2^50 paths, before helm runs)") from None
    assert done.returncode in (0, 1, 2), (done.returncode, done.stderr[-500:])


def test_the_walk_itself_is_bounded(tmp_path: Path) -> None:
    """The same, at the function: ``chart_files`` on that chart must return promptly."""
    require_tool("helm")
    repo = _repo(tmp_path)
    code = ("import sys\nfrom pathlib import Path\nfrom handoff.render.chart_files import chart_files\n"
            "print(sum(1 for _ in chart_files(Path(sys.argv[1]), 'values.schema.json', Path(sys.argv[2]))))\n")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    try:
        subprocess.run([sys.executable, "-c", code, str(repo / "chart"), str(repo)], env=env, capture_output=True,
                       text=True, timeout=30, check=False)
    except subprocess.TimeoutExpired:
        raise AssertionError("chart_files() did not return in 30 s on a chart with two links to itself under "
                             "charts/ (no visited set in chart_files._directory)") from None
