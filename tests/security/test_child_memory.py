"""A renderer child's memory is capped by the runner (``handoff/toolrun.py`` samples its process group's
RSS and kills it past ``RenderLimits.max_child_memory``): helm rendering a dense chart (1,000,000 keys,
12.9 MB of output) peaked near 460 MiB before handoff saw a byte, whatever GOMEMLIMIT said. Real helm;
the peak RSS of handoff and all its descendants together is recorded as a test property."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from handoff.errors import ConfigError
from handoff.manifests.bounds import DEFAULT_MAX_CHILD_MEMORY, RenderLimits
from handoff.reconciler.config import load_settings
from tests.harness.tools import require_tool

pytestmark = pytest.mark.tools

MIB = 1024 * 1024
POD_LIMIT = 256 * MIB
_PAGE = os.sysconf("SC_PAGE_SIZE")


def write_dense_chart(root: Path, keys: int) -> None:
    chart = root / "chart"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: dense\nversion: 0.1.0\n")
    (chart / "values.yaml").write_text(f"count: {keys}\n")
    (chart / "templates/cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: dense}\ndata:\n"
        "{{- range $i := until (int .Values.count) }}\n  k{{ $i }}: v\n{{- end }}\n")
    (root / ".handoff.yaml").write_text("environments:\n  dev: {render: {type: helm, path: chart}}\n")


def _tree_rss(root_pid: int) -> int:
    """Resident bytes of ``root_pid`` and every descendant (helm runs in its own session, so by parent)."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                stat = Path(f"/proc/{entry.name}/stat").read_bytes()
            except OSError:
                continue
            fields = stat[stat.rfind(b")") + 2:].split()
            parents[int(entry.name)], rss[int(entry.name)] = int(fields[1]), int(fields[21]) * _PAGE
    tree, frontier = {root_pid}, [root_pid]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in tree]
        tree.update(children)
        frontier.extend(children)
    return sum(rss.get(pid, 0) for pid in tree)


def run_measured(argv: list[str], env: dict[str, str] | None = None) -> tuple[int, str, int]:
    """(exit code, stderr, the largest sampled RSS of the process and its descendants together)."""
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, _tree_rss(proc.pid))
        time.sleep(0.05)
    assert proc.stderr is not None
    return proc.returncode, proc.stderr.read().decode(errors="replace"), peak


def _validate(repo: Path, *flags: str) -> list[str]:
    return [sys.executable, "-m", "handoff", "validate", "--config-repo", str(repo), "--env", "dev", *flags]


@pytest.mark.slow
def test_helm_rendering_a_dense_chart_is_killed_at_the_child_memory_cap(tmp_path: Path,
                                                                        record_property: Any) -> None:
    require_tool("helm")
    write_dense_chart(tmp_path, 1_000_000)
    code, stderr, peak = run_measured(_validate(tmp_path))
    print(f"\nvalidate, dense helm chart: peak RSS of handoff + helm {peak / MIB:.1f} MiB")
    record_property("handoff_and_helm_peak_rss_mib", round(peak / MIB, 1))
    lines = stderr.strip().splitlines()
    assert code != 0
    assert len(lines) == 1, lines
    assert f"helm killed over the {DEFAULT_MAX_CHILD_MEMORY // MIB} MiB child memory cap (--max-child-memory" \
        in lines[0], lines
    assert peak < POD_LIMIT


def test_the_child_memory_cap_is_set_by_flag_and_environment(tmp_path: Path) -> None:
    require_tool("helm")
    write_dense_chart(tmp_path, 5000)  # helm stays resident past the first samples (a 20-key chart exits sooner)
    flag = subprocess.run(_validate(tmp_path, "--max-child-memory", str(4 * MIB)), capture_output=True,
                          text=True, timeout=300, check=False)
    assert "helm killed over the 4 MiB child memory cap" in flag.stderr, flag.stderr
    env = subprocess.run(_validate(tmp_path), capture_output=True, text=True, timeout=300, check=False,
                         env={**os.environ, "HANDOFF_MAX_CHILD_MEMORY": str(5 * MIB)})
    assert "helm killed over the 5 MiB child memory cap" in env.stderr, env.stderr
    nodes = subprocess.run(_validate(tmp_path, "--max-render-nodes", "30"), capture_output=True, text=True,
                           timeout=300, check=False)
    assert "render over the 30-node YAML budget" in nodes.stderr and "--max-render-nodes" in nodes.stderr, nodes.stderr
    within = subprocess.run(_validate(tmp_path), capture_output=True, text=True, timeout=300, check=False)
    assert within.returncode == 0, within.stderr  # within the defaults it validates


def test_the_reconciler_config_sets_the_node_and_memory_caps_over_the_environment(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HANDOFF_MAX_RENDER_NODES", "5000")
    monkeypatch.setenv("HANDOFF_MAX_CHILD_MEMORY", str(100 * MIB))
    config = tmp_path / "reconciler.yaml"
    config.write_text("render:\n  maxObjects: 5\nsources:\n  - {name: a, url: https://example.com/a.git}\n")
    (source,) = load_settings(config).sources
    assert source.render_limits == RenderLimits(max_objects=5, max_nodes=5000, max_child_memory=100 * MIB)
    config.write_text(f"render:\n  maxNodes: 7000\n  maxChildMemory: {64 * MIB}\n"
                      "sources:\n  - {name: a, url: https://example.com/a.git}\n")
    (source,) = load_settings(config).sources
    assert source.render_limits == RenderLimits(max_nodes=7000, max_child_memory=64 * MIB)
    config.write_text("render:\n  maxChildMemory: 0\nsources:\n  - {name: a, url: https://example.com/a.git}\n")
    with pytest.raises(ConfigError, match=r"reconciler.yaml:2"):
        load_settings(config)
