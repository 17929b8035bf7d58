"""atk13j: a chart template that writes its own ``# Source:`` comment makes handoff itself (not the fenced helm
child) open any path on the machine.

Attack. After ``helm template`` returns, ``HelmRenderer.render`` (``handoff/render/helm.py``) maps each rendered
object to its template by the nearest ``# Source: <chart>/<path>`` line above it in helm's output, builds
``chart / Path(*parts[1:])`` from that text and reads the file (``_read`` -> ``template_positions``, and
``_template_line``) in the handoff process, unfenced and unchecked. Helm writes whatever a template emits, so a
template whose body starts with ``# Source: app/../../../../../../../../dev/zero`` names any file: nothing
normalises the ``..`` parts, nothing checks the path is inside the chart, and ``_read`` reads it whole with no cap.

Observed (real helm):
- a file outside the repo is opened and parsed by handoff: the object's reported ``file`` is the outside path and
  its ``line`` is the line of ``kind: ConfigMap`` *in the outside file* (an oracle on the structure of files such
  as ``/etc/handoff/...`` or a kubeconfig: which keys are present and where);
- ``/dev/zero`` is read until memory runs out (the reconciler, with its 256Mi limit, is OOM-killed on every pass:
  GitOps stops for every source); a FIFO outside the repo hangs the render forever.

Responsible: ``handoff/render/helm.py`` ``HelmRenderer.render`` (``path = chart / Path(*Path(origin[1]).parts[1:])``,
``_read``, ``_template_line``). The fence (``handoff/fence.py``) only wraps the child; this read is in the parent.

What should hold: a ``# Source:`` path that does not resolve to a template file inside the chart (``..`` parts,
links out, devices, FIFOs) is never opened; files handoff reads to locate templates are read capped, regular files
only, inside the chart.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from handoff.errors import HandoffError
from handoff.render import render_path
from tests.harness.tools import require_tool

pytestmark = pytest.mark.tools

UP = "/".join([".."] * 30)


def _chart(repo: Path, target: str) -> Path:
    chart = repo / "chart"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: app\nversion: 0.1.0\n", encoding="utf-8")
    (chart / "templates" / "cm.yaml").write_text(
        f"# Source: app/{UP}{target}\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n", encoding="utf-8")
    return chart


def test_a_forged_source_comment_makes_handoff_read_a_file_outside_the_repo(tmp_path: Path) -> None:
    require_tool("helm")
    outside = tmp_path / "outside" / "config.yaml"
    outside.parent.mkdir()
    outside.write_text("# operator file\nsecretKey: x\nother: y\nkind: ConfigMap\n", encoding="utf-8")
    repo = tmp_path / "repo"
    chart = _chart(repo, str(outside))
    result = render_path(chart, repo=repo, kind="helm")
    [obj] = result.objects
    assert str(outside) not in obj.file and obj.line != 4, (
        f"handoff opened {obj.file} (outside the repo) on the word of a template's own '# Source:' line and "
        f"reported the line of its 'kind:' key ({obj.line}): an oracle on any file the process can read")


def _peak_rss_of_render(repo: Path, chart: Path, cap: int, timeout: float) -> tuple[int, str]:
    code = ("import sys\nfrom pathlib import Path\nfrom handoff.render import render_path\n"
            "r = render_path(Path(sys.argv[1]), repo=Path(sys.argv[2]), kind='helm')\nprint('done', len(r.objects))\n")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.Popen([sys.executable, "-c", code, str(chart), str(repo)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    peak, why = 0, ""
    deadline = time.monotonic() + timeout
    try:
        while proc.poll() is None:
            try:
                status = Path(f"/proc/{proc.pid}/status").read_text()
            except OSError:
                break
            rss = next((int(line.split()[1]) * 1024 for line in status.splitlines() if line.startswith("VmRSS:")), 0)
            peak = max(peak, rss)
            if rss > cap:
                why = "memory"
                break
            if time.monotonic() > deadline:
                why = "timeout"
                break
            time.sleep(0.01)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    return peak, why


def test_a_forged_source_comment_naming_dev_zero_does_not_exhaust_memory(tmp_path: Path) -> None:
    require_tool("helm")
    repo = tmp_path / "repo"
    chart = _chart(repo, "/dev/zero")
    cap = 512 * 1024 * 1024
    peak, why = _peak_rss_of_render(repo, chart, cap, timeout=120)
    assert why == "", (f"handoff read /dev/zero named by a template's '# Source:' line: killed at {peak // 2**20} "
                       f"MiB resident ({why}); the reconciler's limit is 256Mi")


def test_a_forged_source_comment_naming_a_fifo_does_not_hang(tmp_path: Path) -> None:
    require_tool("helm")
    fifo = tmp_path / "outside" / "pipe"
    fifo.parent.mkdir()
    os.mkfifo(fifo)
    repo = tmp_path / "repo"
    chart = _chart(repo, str(fifo))
    _peak, why = _peak_rss_of_render(repo, chart, 512 * 1024 * 1024, timeout=60)
    assert why == "", "handoff opened a FIFO outside the repo named by a template's '# Source:' line and hung"


def test_the_reported_file_stays_inside_the_chart(tmp_path: Path) -> None:
    """The same spelling with a path that does not exist: at least the object is not attributed outside."""
    require_tool("helm")
    repo = tmp_path / "repo"
    chart = _chart(repo, "/etc/handoff/git/token")
    try:
        result = render_path(chart, repo=repo, kind="helm")
    except HandoffError as e:
        pytest.fail(f"render failed: {e}")
    assert all(not o.file.startswith("/") and ".." not in o.file for o in result.objects), \
        [o.file for o in result.objects]
