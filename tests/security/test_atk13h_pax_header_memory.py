"""atk13h: a ~400 KB subchart archive whose first entry is an extended (PAX ``x``) header declaring 400 MiB
takes handoff's own chart scan to ~400 MiB before helm runs; Go's archive/tar (Helm) refuses any extended
header over 1 MiB (``maxSpecialFileSize``).

``handoff/render/tar_headers.py`` ``go_tar_members`` reads a ``x``/``g``/``L``/``K`` header's data whole
(``data = _read_exact(stream, size, shown)``) with no cap: neither the 5 MiB member cap of
``chart_files.MAX_MEMBER_BYTES`` nor Go's 1 MiB special-file cap applies to it. The zeros compress ~1000:1,
so the archive is far under the 64 MiB file size limit. ``RemoteScan.chart`` runs this scan in-process on
the CI side (validate, propose, promote) and in ``reconcile --once``, whose Pod limit is 256Mi. What should
hold: an extended header larger than Go's 1 MiB is refused before it is read, with a one-line error naming
the archive; the scan's peak memory stays bounded.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import zlib
from pathlib import Path

import pytest

from tests.harness.tools import require_tool

pytestmark = pytest.mark.tools

HEADER_MIB = 400
MAX_PEAK_MIB = 128  # half the reconciler Pod's memory limit; validate of a small chart peaks well under it
CHART = b"apiVersion: v2\nname: sub\nversion: 0.1.0\n"

VALIDATE = """
import runpy, sys
code = 0
try:
    runpy.run_module("handoff", run_name="__main__")
except SystemExit as e:
    code = e.code
print("peak-mib", int(next(l for l in open('/proc/self/status') if l.startswith('VmHWM:')).split()[1]) // 1024)
sys.exit(code)
"""


def _header(name: str, kind: bytes, size: int) -> bytes:
    info = tarfile.TarInfo(name)
    info.type, info.size = kind, size
    return info.tobuf(format=tarfile.USTAR_FORMAT)


def _archive_with_a_huge_pax_header() -> bytes:
    """A gzip'd tar: a PAX ``x`` header of HEADER_MIB MiB of zeros, then ``sub/Chart.yaml`` (streamed out)."""
    gz = zlib.compressobj(9, zlib.DEFLATED, 31)
    out = [gz.compress(_header("././@PaxHeader", tarfile.XHDTYPE, HEADER_MIB << 20))]
    chunk = bytes(1 << 20)
    out += [gz.compress(chunk) for _ in range(HEADER_MIB)]
    pad = -len(CHART) % 512
    out.append(gz.compress(_header("sub/Chart.yaml", tarfile.REGTYPE, len(CHART)) + CHART + bytes(pad)))
    out.append(gz.compress(bytes(1024)))
    out.append(gz.flush())
    return b"".join(out)


def _repo(root: Path) -> Path:
    files = {".handoff.yaml": "environments:\n  dev: {render: {type: helm, path: chart}}\n",
             "chart/Chart.yaml": "apiVersion: v2\nname: web\nversion: 0.1.0\ndependencies:\n- name: sub\n"
                                 "  version: 0.1.0\n",
             "chart/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  a: b\n"}
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    (root / "chart" / "charts").mkdir()
    (root / "chart" / "charts" / "sub-0.1.0.tgz").write_bytes(_archive_with_a_huge_pax_header())
    return root


def test_validate_refuses_an_oversized_pax_header_before_reading_it(tmp_path: Path) -> None:
    require_tool("helm")
    repo = _repo(tmp_path / "repo")
    archive_kib = (repo / "chart" / "charts" / "sub-0.1.0.tgz").stat().st_size // 1024
    done = subprocess.run([sys.executable, "-c", VALIDATE, "validate", "--config-repo", str(repo), "--env", "dev"],
                          capture_output=True, text=True, timeout=300, check=False, cwd=repo,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
    peak = int(done.stdout.strip().splitlines()[-1].split()[1])
    print(f"validate peak: {peak} MiB for a {archive_kib} KiB archive")  # the measurement, for the report
    assert done.returncode != 0, done.stdout + done.stderr  # helm refuses it (extended header over 1 MiB)
    assert peak < MAX_PEAK_MIB, (
        f"validate of a {archive_kib} KiB subchart archive whose PAX header declares {HEADER_MIB} MiB took "
        f"handoff itself to {peak} MiB: tar_headers.go_tar_members reads an extended header's data whole "
        f"with no cap; Go's archive/tar (Helm) refuses one over 1 MiB. stderr: {done.stderr.strip()[:300]}")
