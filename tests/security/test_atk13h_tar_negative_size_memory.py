"""atk13h: a subchart archive member whose size field reads ``-1`` makes handoff's chart scan read the whole
rest of the decompressed stream into memory: a ~400 KB archive takes validate to ~400 MiB.

``handoff/render/tar_headers.py`` ``_number`` parses an octal size with Python's ``int(text, 8)``, which accepts
a sign (and ``_`` separators, a ``0o`` prefix): ``-0000000001`` is ``-1``. Go's ``parseOctal``
(``strconv.ParseUint``) refuses it, so Helm refuses the archive; handoff's scan runs first. For the member
``sub/values.schema.json`` ``chart_files._archive`` compares ``member.size > MAX_MEMBER_BYTES`` (false for -1)
and calls ``member.read()``, i.e. ``stream.read(-1)``: everything left in the gzip stream, uncapped. The zeros
after it compress ~1000:1, far under the 64 MiB file size limit. Runs in-process on the CI side (validate,
propose, promote) and in ``reconcile --once`` (Pod limit 256Mi). What should hold: a size field Go would not
parse (sign, separators, prefix) is refused before any data is read; the scan's peak memory stays bounded.
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

TAIL_MIB = 400
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


def _negative_size_header(name: str) -> bytes:
    header = bytearray(_header(name, tarfile.REGTYPE, 0))
    header[124:136] = b"-0000000001\0"
    header[148:156] = b" " * 8
    header[148:156] = b"%06o\0 " % sum(header)
    return bytes(header)


def _archive_with_a_negative_size() -> bytes:
    """A gzip'd tar: ``sub/Chart.yaml``, then ``sub/values.schema.json`` of size ``-1`` and TAIL_MIB MiB of zeros."""
    gz = zlib.compressobj(9, zlib.DEFLATED, 31)
    pad = -len(CHART) % 512
    out = [gz.compress(_header("sub/Chart.yaml", tarfile.REGTYPE, len(CHART)) + CHART + bytes(pad)),
           gz.compress(_negative_size_header("sub/values.schema.json"))]
    chunk = bytes(1 << 20)
    out += [gz.compress(chunk) for _ in range(TAIL_MIB)]
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
    (root / "chart" / "charts" / "sub-0.1.0.tgz").write_bytes(_archive_with_a_negative_size())
    return root


def test_validate_refuses_a_negative_member_size_before_reading_it(tmp_path: Path) -> None:
    require_tool("helm")
    repo = _repo(tmp_path / "repo")
    archive_kib = (repo / "chart" / "charts" / "sub-0.1.0.tgz").stat().st_size // 1024
    done = subprocess.run([sys.executable, "-c", VALIDATE, "validate", "--config-repo", str(repo), "--env", "dev"],
                          capture_output=True, text=True, timeout=300, check=False, cwd=repo,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
    peak = int(done.stdout.strip().splitlines()[-1].split()[1])
    print(f"validate peak: {peak} MiB for a {archive_kib} KiB archive")  # the measurement, for the report
    assert done.returncode != 0, done.stdout + done.stderr  # helm refuses it (Go cannot parse the size)
    assert peak < MAX_PEAK_MIB, (
        f"validate of a {archive_kib} KiB subchart archive whose values.schema.json member has the size field "
        f"-1 took handoff itself to {peak} MiB: tar_headers._number reads it as -1 (int(text, 8)), and "
        f"member.read() is stream.read(-1), the whole rest of the stream; Go refuses the size field. "
        f"stderr: {done.stderr.strip()[:300]}")
