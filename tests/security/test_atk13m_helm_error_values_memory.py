"""atk13m: a failing ``helm template`` makes handoff parse every values file of the chart outside the render's
node budget, then build ~11 encoded forms of each string in it.

Attack. When helm fails (a ``{{ fail }}``, a type error, or helm killed at the child memory cap),
``handoff/render/helm.py`` ``template`` masks the error with every string of the chart's values files:
``chart_files(chart, "values.yaml")`` plus ``_values_files`` (read by ``_read``: ``Path.read_text``, no size
cap), each parsed by ``_strings`` with ``load_exact`` (PyYAML's exact loader, never charged to the render's node
budget: the successful path charges them in ``ValuesIndex``), then ``redact.mask_values`` builds raw, URL,
base64, base32 and hex forms of every value no longer than the error text. A committed ``values.yaml`` of
1,000,000 one-line ``kN: vNNNNNNN`` keys is 17 MB: under the 64 MiB file cap, the checkout budget and the
16 MiB render output cap (it is never rendered), over the 1,000,000-node budget that ``ValuesIndex`` would
have refused it at. The template is ``{{ fail "no" }}``.

Observed: handoff's own process peaks past 1 GiB (about 880 MiB for the parse, 1.2 GiB with the mask forms)
on the error path, before it prints the one-line error; the reconciler's limit is 256Mi (OOM-killed: every
source's delivery stops, and restarts re-render the same revision).

Responsible: ``handoff/render/helm.py`` ``template`` (the ``except RenderError`` branch), ``_strings``,
``_read``/``_values_files``; ``handoff/redact.py`` ``mask_values`` (forms per value, unbounded count).

What should hold: the error path is bounded like the render: values files charged to the node budget
(or capped in what is collected for masking), read with the file cap, and handoff stays well under the
reconciler's 256Mi whatever the chart's values hold.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.harness.tools import require_tool

pytestmark = pytest.mark.tools

_CHILD = r"""
import sys
from pathlib import Path
from handoff.render import render_path
repo = Path(sys.argv[1])
try:
    render_path(repo / "chart", repo=repo)
    print("rendered", file=sys.stderr)
except Exception as e:
    print(type(e).__name__, str(e)[:300], file=sys.stderr)
hwm = [line for line in Path("/proc/self/status").read_text().splitlines() if line.startswith("VmHWM:")]
print(int(hwm[0].split()[1]) // 1024)
"""


def _dense_values(keys: int) -> str:
    return "".join(f"k{i:x}: v{i:07x}\n" for i in range(keys))


def _run(repo: Path) -> tuple[int, str]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    done = subprocess.run([sys.executable, "-c", _CHILD, str(repo)], env=env, capture_output=True, text=True,
                          timeout=900, check=False)
    assert done.stdout.strip(), done.stderr[-500:]
    return int(done.stdout.strip().splitlines()[-1]), done.stderr[-300:]


def _chart(repo: Path) -> Path:
    chart = repo / "chart"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: web\nversion: 0.1.0\n", encoding="utf-8")
    (chart / "templates" / "cm.yaml").write_text('{{ fail "no" }}\n', encoding="utf-8")
    return chart


def test_a_failing_chart_with_dense_values_under_helms_file_limit_blows_handoffs_memory(tmp_path: Path) -> None:
    """values.yaml of 300,000 keys: 5.0 MB, under Helm's own 5 MiB chart-file limit (Helm loads it, the
    template fails)."""
    require_tool("helm")
    repo = tmp_path / "repo"
    chart = _chart(repo)
    text = _dense_values(300_000)
    assert len(text) < 5 * 1024 * 1024
    (chart / "values.yaml").write_text(text, encoding="utf-8")
    peak_mib, stderr = _run(repo)
    assert peak_mib < 256, (
        f"a chart whose template fails, with a {len(text) // 1000} kB values.yaml of 300,000 keys, took handoff's "
        f"own process to {peak_mib} MiB on helm's error path (helm.template masks with _strings of every values "
        f"file, outside the node budget); the reconciler's limit is 256Mi. {stderr}")


def test_a_values_file_helm_refuses_is_still_parsed_whole_by_handoff(tmp_path: Path) -> None:
    """values.yaml of 1,000,000 keys (17 MB): Helm refuses it at once ("larger than the maximum file size"),
    handoff's error path then parses all of it."""
    require_tool("helm")
    repo = tmp_path / "repo"
    chart = _chart(repo)
    (chart / "values.yaml").write_text(_dense_values(1_000_000), encoding="utf-8")
    peak_mib, stderr = _run(repo)
    assert peak_mib < 256, (
        f"a chart with a 17 MB values.yaml of 1,000,000 keys (refused by helm itself) took handoff's own process "
        f"to {peak_mib} MiB on helm's error path (helm.template: _strings of every values file, outside the "
        f"node budget); the reconciler's limit is 256Mi. {stderr}")
