"""atk13h: a regular (type ``0``) subchart archive member named ``sub/values.schema.json/`` is a directory for
handoff's Go-style reader and the subchart's schema for Helm.

Go's ``archive/tar`` turns a member into a directory by its trailing slash only for the old type ``\\0``
(``TypeRegA``); a type ``0`` member stays a regular file whatever its name ends in, and Helm's loader
(``pkg/chart/loader/archive.go``) ``path.Clean``s the name: ``values.schema.json/`` loads as
``values.schema.json``. ``handoff/render/tar_headers.py`` calls it a directory for both types
(``is_dir = kind == ord("5") or (kind in (0, ord("0")) and name.endswith("/"))``) and ``chart_files._archive``
skips directories, so the schema's ``$ref`` is never scanned: it reads a file outside the repo (quoted in the
render error) or fetches a URL at render time, on the CI side and in ``reconcile --once``.

What should hold: only a type ``\\0`` member with a trailing slash is a directory (as Go reads it), or a
regular member whose name ends in ``/`` is refused.
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

SECRET = "atk13h-outside-secret-7b2f90"
SUB_TEMPLATE = (b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: sub\ndata:\n"
                b"  mode: {{ .Values.mode | quote }}\n")


def _member(name: str, data: bytes) -> bytes:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info.tobuf(tarfile.USTAR_FORMAT) + data + bytes(-len(data) % 512)


def _slashed_member(name: str, data: bytes) -> bytes:
    """A type ``0`` header whose name is ``name`` (ending in a slash), holding ``data``."""
    header = bytearray(_member("x", data)[:512])
    header[0:100] = name.encode().ljust(100, b"\0")
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
           + _slashed_member("sub/values.schema.json/", json.dumps(schema).encode()) + bytes(1024))
    (root / "chart" / "charts").mkdir()
    with gzip.open(root / "chart" / "charts" / "sub-0.1.0.tgz", "wb") as out:
        out.write(raw)
    return root


def _validate(repo: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "handoff", "validate", "--config-repo", str(repo), "--env", "dev",
                           "--output", "json"], capture_output=True, text=True, timeout=300, check=False, cwd=repo,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])})


def test_a_slash_named_regular_archive_schema_reads_and_quotes_no_file_outside_the_repo(tmp_path: Path) -> None:
    require_tool("helm")
    outside = tmp_path / "outside" / "creds.json"
    outside.parent.mkdir()
    outside.write_text(json.dumps({"const": SECRET}))
    done = _validate(_repo(tmp_path / "repo", {"properties": {"mode": {"$ref": f"file://{outside}"}}}))
    assert leaks({"validate stdout": done.stdout, "validate stderr": done.stderr}, [SECRET]) == [], (
        "a regular (type 0) subchart archive member `sub/values.schema.json/` is the subchart's schema for Helm "
        "(Go: a file; Helm cleans the name) but a directory for handoff's reader, so never $ref-scanned: its "
        "file:// $ref "
        f"read a file outside the config repo into validate's output: {done.stdout.strip()[:400]} "
        f"{done.stderr.strip()[:400]}")


def test_a_slash_named_regular_archive_schema_fetches_nothing(tmp_path: Path, listener: Listener) -> None:  # noqa: F811
    require_tool("helm")
    _validate(_repo(tmp_path / "repo", {"properties": {"mode": {"$ref": f"{listener.url}/schema.json"}}}))
    assert listener.requests == [], (f"helm fetched {listener.requests} at render time through a subchart "
                                     "archive member `sub/values.schema.json/` of type 0 (a directory for "
                                     "handoff's reader, the schema for Helm)")
