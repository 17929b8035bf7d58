"""atk13k: a chart's ``dependencies[].name`` (repo content) is used by handoff's own process as a path and as a
glob pattern before helm runs.

Attack. ``RemoteScan.chart`` (``handoff/render/remote.py``) calls ``_vendored(chart, dep)``, which does
``(chart / "charts" / name / "Chart.yaml").is_file()`` and ``any((chart / "charts").glob(f"{name}*.tgz"))`` with
``name`` taken verbatim from ``Chart.yaml``. Nothing refuses ``/``, ``..`` or glob metacharacters, and this runs
in the parent, after ``check_inputs`` (which looks only at links in the chart tree, never at this string).

Observed:
- ``name: "**/**/**/**/**/**/**/**/**/**/"`` over a ``charts/`` holding a small in-repo tree (25 nested
  directories, 50 in all) makes Python 3.11's ``Path.glob`` walk it exponentially (k stars: ~6^k; 5 took 6 s,
  6 took 31 s): ``validate`` / ``reconcile --once`` hang on repo content (every reconciler pass stalls);
- ``name: ../../../<anywhere>/x`` stats ``/<anywhere>/x/Chart.yaml`` and lists ``/<anywhere>/`` outside the repo:
  whether another source's checkout holds a chart changes handoff's error (an oracle on files outside), and
  ``../../../../**/`` walks the whole filesystem;
- ``name: "**"`` raises an uncaught ``ValueError`` (``Invalid pattern``) rather than a RenderError.

Responsible: ``handoff/render/remote.py`` ``_vendored`` (and ``RemoteScan.chart``).

What should hold: a dependency name is a chart name, never a path or a pattern (refuse ``/``, ``\\``, ``..``,
``*?[``); matching vendored archives compares directory entries' names, not a glob; no path outside the chart
is touched.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from handoff.errors import HandoffError
from handoff.render import render_path

pytestmark = pytest.mark.tools


def _chart(repo: Path, dep_name: str) -> Path:
    chart = repo / "chart"
    (chart / "templates").mkdir(parents=True)
    (chart / "charts").mkdir()
    (chart / "Chart.yaml").write_text(
        f"apiVersion: v2\nname: app\nversion: 0.1.0\ndependencies:\n  - name: {dep_name!r}\n    version: 0.1.0\n"
        "    repository: file://./sub\n", encoding="utf-8")
    (chart / "templates" / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\n",
                                                 encoding="utf-8")
    return chart


def test_a_glob_dependency_name_hangs_the_render(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    chart = _chart(repo, "**/" * 10)
    deep = chart / "charts"
    for i in range(25):
        deep = deep / f"d{i}"
        deep.mkdir()
        (deep.parent / f"d{i}-x").mkdir()
    code = textwrap.dedent("""
        import sys
        from pathlib import Path
        from handoff.render import render_path
        try:
            render_path(Path(sys.argv[1]), repo=Path(sys.argv[2]), kind="helm")
        except Exception as e:
            print(type(e).__name__, e)
    """)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    try:
        subprocess.run([sys.executable, "-c", code, str(chart), str(repo)], env=env, capture_output=True,
                       timeout=30, check=False)
    except subprocess.TimeoutExpired:
        raise AssertionError("a Chart.yaml dependency named '**/**/…/' made handoff's own process glob "
                             "charts/ exponentially: the render did not finish in 30 s (remote._vendored)") from None


def test_a_dependency_name_with_dotdot_probes_files_outside_the_repo(tmp_path: Path) -> None:
    outside = tmp_path / "other-source" / "secret-chart"
    repo = tmp_path / "repo"
    up = "../" * 3  # repo/chart/charts -> tmp_path
    chart = _chart(repo, f"{up}other-source/secret-chart")

    def outcome() -> str:
        try:
            render_path(chart, repo=repo, kind="helm")
        except HandoffError as e:
            return str(e)
        return "rendered"

    absent = outcome()
    outside.mkdir(parents=True)
    (outside / "Chart.yaml").write_text("apiVersion: v2\nname: x\nversion: 0.1.0\n", encoding="utf-8")
    present = outcome()
    assert "not vendored" in present, (
        f"handoff stat'ed {outside}/Chart.yaml outside the repo on the word of a dependency name: without it "
        f"the render said {absent!r}, with it {present!r} (an oracle on other checkouts' files)")


def test_a_star_dependency_name_is_a_render_error(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    chart = _chart(repo, "**")
    try:
        render_path(chart, repo=repo, kind="helm")
    except HandoffError:
        return
    except ValueError as e:
        raise AssertionError(f"a dependency named '**' crashed the render with {type(e).__name__}: {e}") from None
