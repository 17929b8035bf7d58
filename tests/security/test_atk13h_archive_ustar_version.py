"""atk13h: a subchart archive member whose ustar header carries a version other than ``00`` is named with its
prefix field by Go's ``archive/tar`` (Helm) and without it by handoff's Go-style reader.

Go's ``block.getFormat`` says USTAR (``FormatUSTAR | FormatPAX``) for the magic ``ustar\\0`` whatever the
version field holds, and ``readHeader`` then prefixes the name with the 155-byte prefix field. handoff's
``handoff/render/tar_headers.py`` ``_header_name`` applies that prefix only when the version is ``00``
(``elif magic == b"ustar\\x00" and version == b"00"``). A member with name ``values.schema.json``, prefix
``sub`` and version ``"  "`` is ``sub/values.schema.json`` for Helm (the subchart's schema) and a bare
``values.schema.json`` for handoff, not at chart level, so never scanned: its ``$ref`` reads a file outside the
repo (quoted in the render error) or fetches a URL at render time, on the CI side and in ``reconcile --once``.

What should hold: handoff names the member as Go does (the prefix for any ``ustar\\0`` magic that is not star's),
or refuses a header whose version is not ``00``.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from tests.harness.tools import require_tool
from tests.security.leaks import leaks
from tests.security.test_render_network import Listener, listener  # noqa: F401 (fixture)

pytestmark = pytest.mark.tools

SECRET = "atk13h-outside-secret-4a0e6f"
SUB_TEMPLATE = (b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: sub\ndata:\n"
                b"  mode: {{ .Values.mode | quote }}\n")


def _member(name: str, data: bytes) -> bytes:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info.tobuf(tarfile.USTAR_FORMAT) + data + bytes(-len(data) % 512)


def _prefixed_member(prefix: str, name: str, data: bytes) -> bytes:
    """A ustar header: ``name`` in the name field, ``prefix`` in the prefix field, version ``"  "``."""
    header = bytearray(_member(name, data)[:512])
    header[345:345 + len(prefix)] = prefix.encode()
    header[263:265] = b"  "
    header[148:156] = b" " * 8
    header[148:156] = b"%06o\0 " % sum(header)
    return bytes(header) + data + bytes(-len(data) % 512)


def _repo(root: Path, schema: dict[str, object]) -> Path:
    files = {".handoff.yaml": "environments:\n  dev: {render: {type: helm, path: chart}}\n",
             "chart/Chart.yaml": "apiVersion: v2\nname: web\nversion: 0.1.0\ndependencies:\n- name: sub\n"
                                 "  version: 0.1.0\n",
             "chart/values.yaml": "mode: hello\n",
             "chart/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  a: b\n"}
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    raw = (_member("sub/Chart.yaml", b"apiVersion: v2\nname: sub\nversion: 0.1.0\n")
           + _member("sub/values.yaml", b"mode: hello\n") + _member("sub/templates/cm.yaml", SUB_TEMPLATE)
           + _prefixed_member("sub", "values.schema.json", json.dumps(schema).encode()) + bytes(1024))
    (root / "chart" / "charts").mkdir()
    with gzip.open(root / "chart" / "charts" / "sub-0.1.0.tgz", "wb") as out:
        out.write(raw)
    return root


def _validate(repo: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "handoff", "validate", "--config-repo", str(repo), "--env", "dev",
                           "--output", "json"], capture_output=True, text=True, timeout=300, check=False, cwd=repo,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])})


def test_a_prefixed_ustar_archive_schema_reads_and_quotes_no_file_outside_the_repo(tmp_path: Path) -> None:
    require_tool("helm")
    outside = tmp_path / "outside" / "creds.json"
    outside.parent.mkdir()
    outside.write_text(json.dumps({"const": SECRET}))
    done = _validate(_repo(tmp_path / "repo", {"properties": {"mode": {"$ref": f"file://{outside}"}}}))
    assert leaks({"validate stdout": done.stdout, "validate stderr": done.stderr}, [SECRET]) == [], (
        "a subchart archive member named `values.schema.json` with the ustar prefix `sub` and version `  ` is "
        "sub/values.schema.json for Helm (Go applies the prefix for any ustar magic) but a bare "
        "values.schema.json for handoff's $ref scan (prefix only for version 00): its file:// $ref "
        f"read a file outside the config repo into validate's output: {done.stdout.strip()[:400]} "
        f"{done.stderr.strip()[:400]}")


def test_a_prefixed_ustar_archive_schema_fetches_nothing(tmp_path: Path, listener: Listener) -> None:  # noqa: F811
    require_tool("helm")
    _validate(_repo(tmp_path / "repo", {"properties": {"mode": {"$ref": f"{listener.url}/schema.json"}}}))
    assert listener.requests == [], (f"helm fetched {listener.requests} at render time through a subchart "
                                     "archive member whose ustar prefix `sub` handoff ignores (version `  `, "
                                     "not 00): Helm loads it as sub/values.schema.json")
