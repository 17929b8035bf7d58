"""atk13g: a 50 KB subchart archive nesting padded archives takes handoff's own chart scan to ~350 MiB,
before any child (and its memory cap) runs; Helm refuses the same archive at 5 MiB.

``handoff/render/chart_files.py`` reads a chart archive in memory and each ``charts/<sub>.tgz`` member
inside it whole (``_member_data``: ``extracted.read()``), recursing into it while the outer bytes stay alive,
up to ``_MAX_DEPTH`` = 50 levels. Each member is bounded only by the 64 MiB file size limit
(``HANDOFF_MAX_FILE_BYTES``). A member that is a tiny gzip followed by 48 MiB of zeros (Python's ``tarfile``
stops at the tar end and never reads the padding) compresses to ~10 KB in the archive around it, so six levels
are a ~50 KB file in the repo and ~300 MiB held at once. ``RemoteScan.chart`` runs this scan in-process on the
CI side (validate, propose, promote) and in ``reconcile --once``, whose Pod limit is 256Mi. Helm's loader caps
each decompressed file at 5 MiB (``MaxDecompressedFileSize``) and refuses this chart: "decompressed chart file
… is larger than the maximum file size 5242880". What should hold: the scan's memory stays bounded (a per-member
cap no larger than Helm's, and a total across nesting levels), with a one-line size error naming the archive.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from tests.harness.tools import require_tool

pytestmark = pytest.mark.tools

PADDED_MIB, LEVELS = 48, 6
MAX_PEAK_MIB = 128  # half the reconciler Pod's memory limit; validate of a small chart peaks well under it
CHART = b"apiVersion: v2\nname: sub\nversion: 0.1.0\n"

VALIDATE = """
import runpy, sys
code = 0
try:
    runpy.run_module("handoff", run_name="__main__")
except SystemExit as e:
    code = e.code
# VmHWM is this address space's own peak (ru_maxrss would start at pytest's size after vfork + exec)
print("peak-mib", int(next(l for l in open('/proc/self/status') if l.startswith('VmHWM:')).split()[1]) // 1024)
sys.exit(code)
"""


def _tgz(entries: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", format=tarfile.USTAR_FORMAT) as archive:
        for name, data in entries:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _repo(root: Path) -> Path:
    level = _tgz([("sub/Chart.yaml", CHART)])
    for _ in range(LEVELS):
        padded = level + b"\0" * ((PADDED_MIB << 20) - len(level))
        level = _tgz([("sub/Chart.yaml", CHART), ("sub/charts/sub-0.1.0.tgz", padded)])
    files = {".handoff.yaml": "environments:\n  dev: {render: {type: helm, path: chart}}\n",
             "chart/Chart.yaml": "apiVersion: v2\nname: web\nversion: 0.1.0\ndependencies:\n- name: sub\n"
                                 "  version: 0.1.0\n",
             "chart/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  a: b\n"}
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    (root / "chart" / "charts").mkdir()
    (root / "chart" / "charts" / "sub-0.1.0.tgz").write_bytes(level)
    return root


def test_validate_of_a_nested_padded_subchart_archive_stays_within_a_bounded_memory(tmp_path: Path) -> None:
    require_tool("helm")
    repo = _repo(tmp_path / "repo")
    archive_kib = (repo / "chart" / "charts" / "sub-0.1.0.tgz").stat().st_size // 1024
    done = subprocess.run([sys.executable, "-c", VALIDATE, "validate", "--config-repo", str(repo), "--env", "dev"],
                          capture_output=True, text=True, timeout=300, check=False, cwd=repo,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
    peak = int(done.stdout.strip().splitlines()[-1].split()[1])
    print(f"validate peak: {peak} MiB for a {archive_kib} KiB archive")  # the measurement, for the report
    assert done.returncode != 0, done.stdout + done.stderr  # helm refuses it; handoff should refuse it first
    assert peak < MAX_PEAK_MIB, (
        f"validate of a {archive_kib} KiB subchart archive ({LEVELS} nested archives, each a {PADDED_MIB} MiB "
        f"padded member) took handoff itself to {peak} MiB before helm ran: chart_files holds every nested "
        f"member whole (64 MiB cap each, 50 levels); Helm refuses any member over 5 MiB. "
        f"stderr: {done.stderr.strip()[:300]}")
