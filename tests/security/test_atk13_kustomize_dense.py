"""atk13: a kustomize resource under every cap that keeps kustomize busy for minutes.

A ConfigMap of 100,000 short keys is 1.3 MB (the file cap is 64 MiB) and 200,001 YAML nodes (the render
budget is 1,000,000), but kustomize 5.8's time grows faster than quadratically with the keys of one mapping:
50,000 keys take 11 s, 100,000 take 91 s on one core (163 MiB RSS), 600,000 ran over 11 minutes at 600 MiB
RSS before it was stopped (GOMEMLIMIT=96MiB does not bound a live heap). The node budget counts only
kustomization files before kustomize runs (``handoff/render/inputs.py``, ``handoff/render/kustomize.py``
``build``: resource files are counted only in kustomize's output, after the child is done), so the only
bound is the child's 300 s timeout (``handoff/toolrun.py`` ``DEFAULT_TIMEOUT``): every CI check and every
reconciler pass on such a commit burns it. The guarantee (docs/SECURITY.md, trust boundaries: repo contents
"must not … hang handoff"; dense shapes "refused before parsing with one line") should hold for the
resource files kustomize reads too.
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

KEYS = 100_000


def test_a_dense_kustomize_resource_fails_fast(tmp_path: Path) -> None:
    require_tool("kustomize")
    app = tmp_path / "repo" / "app"
    app.mkdir(parents=True)
    (app / "kustomization.yaml").write_text("resources: [cm.yaml]\n")
    with (app / "cm.yaml").open("w") as f:
        f.write("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dense\ndata:\n")
        f.writelines(f"  k{i}: a\n" for i in range(KEYS))
    assert (app / "cm.yaml").stat().st_size < 2 * 1024 * 1024
    done = subprocess.run([sys.executable, "-m", "handoff", "validate", str(app)], cwd=app,
                          capture_output=True, text=True, timeout=600, check=False,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
    # refused before kustomize runs, in one line naming the file, line and key (not the 300 s child timeout)
    assert done.returncode != 0, done.stdout
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "cm.yaml:5" in lines[0] and "data" in lines[0], done.stderr


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def test_sigterm_of_validate_does_not_orphan_a_running_renderer(tmp_path: Path) -> None:
    """``handoff/toolrun.py`` ``run`` starts each child in its own session and kills its group only on a
    Python exception: a SIGTERM (a cancelled CI job, a runner timeout) ends handoff at once and leaves the
    renderer running with no timeout at all, since the 300 s deadline was the dead parent's."""
    require_tool("helm")
    app = tmp_path / "repo" / "app"
    (app / "templates").mkdir(parents=True)
    (app / "Chart.yaml").write_text("apiVersion: v2\nname: busy\nversion: 0.1.0\n")
    # a template that keeps helm busy (no output, well under every cap) until it is killed
    busy = "{{- range until 100000 }}{{- range until 100000 }}{{- end }}{{- end }}\n"
    (app / "templates" / "busy.yaml").write_text(busy)
    proc = subprocess.Popen([sys.executable, "-m", "handoff", "validate", str(app)], cwd=app,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
    children: list[int] = []
    deadline = time.monotonic() + 20
    while not children and time.monotonic() < deadline:
        time.sleep(0.2)
        children = _children(proc.pid)
    assert children, "helm never started"
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=10)
    time.sleep(3)
    alive = [pid for pid in children if Path(f"/proc/{pid}").exists()
             and "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()]
    for pid in alive:
        os.kill(pid, signal.SIGKILL)  # our own test's orphan
    assert alive == [], (f"after SIGTERM of handoff validate its renderer child {alive} was still running "
                         "(orphaned, with no deadline)")
