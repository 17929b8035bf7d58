"""atk13h: a subchart archive member named ``sub/x\\values.schema.json`` is the subchart's
``values.schema.json`` for Helm and ``sub/x/values.schema.json`` (skipped) for handoff's ``$ref`` scan.

Helm's loader (``pkg/chart/loader/archive.go``) picks one delimiter per member: ``\\`` as soon as the name
holds a backslash (an archive made on Windows), else ``/``; it drops the first part up to that delimiter. So
``sub/x\\values.schema.json`` splits into ``["sub/x", "values.schema.json"]`` and loads as the chart's
``values.schema.json``. ``handoff/render/chart_files.py`` ``_archive`` replaces every ``\\`` by ``/`` first
(``member.name.replace("\\\\", "/")``), reads ``sub/x/values.schema.json``, a file two levels down that is not
at chart level, and never scans it. The schema's ``$ref`` then reads a file outside the repo (quoted in the
render error) or fetches a URL at render time, on the CI side and in ``reconcile --once``.

What should hold: handoff names members as Helm does (split on ``\\`` alone when the name holds one), or
refuses a member name holding a backslash (``helm package`` never writes one).
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

SECRET = "atk13h-outside-secret-9d4c27"
SUB_TEMPLATE = (b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: sub\ndata:\n"
                b"  mode: {{ .Values.mode | quote }}\n")


def _member(name: str, data: bytes) -> bytes:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info.tobuf(tarfile.USTAR_FORMAT) + data + bytes(-len(data) % 512)


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
           + _member("sub/x\\values.schema.json", json.dumps(schema).encode()) + bytes(1024))
    (root / "chart" / "charts").mkdir()
    with gzip.open(root / "chart" / "charts" / "sub-0.1.0.tgz", "wb") as out:
        out.write(raw)
    return root


def _validate(repo: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "handoff", "validate", "--config-repo", str(repo), "--env", "dev",
                           "--output", "json"], capture_output=True, text=True, timeout=300, check=False, cwd=repo,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])})


def test_a_backslash_named_archive_schema_reads_and_quotes_no_file_outside_the_repo(tmp_path: Path) -> None:
    require_tool("helm")
    outside = tmp_path / "outside" / "creds.json"
    outside.parent.mkdir()
    outside.write_text(json.dumps({"const": SECRET}))
    done = _validate(_repo(tmp_path / "repo", {"properties": {"mode": {"$ref": f"file://{outside}"}}}))
    assert leaks({"validate stdout": done.stdout, "validate stderr": done.stderr}, [SECRET]) == [], (
        "a subchart archive member `sub/x\\values.schema.json` is the subchart's values.schema.json for Helm "
        "(it splits on `\\` alone) but `sub/x/values.schema.json` for handoff's $ref scan: its file:// $ref "
        f"read a file outside the config repo into validate's output: {done.stdout.strip()[:400]} "
        f"{done.stderr.strip()[:400]}")


def test_a_backslash_named_archive_schema_fetches_nothing(tmp_path: Path, listener: Listener) -> None:  # noqa: F811
    require_tool("helm")
    _validate(_repo(tmp_path / "repo", {"properties": {"mode": {"$ref": f"{listener.url}/schema.json"}}}))
    assert listener.requests == [], (f"helm fetched {listener.requests} at render time through a subchart "
                                     "archive member `sub/x\\values.schema.json` (Helm: values.schema.json; "
                                     "handoff's scan: sub/x/values.schema.json, skipped)")


def _tgz(members: bytes) -> bytes:
    return gzip.compress(members + bytes(1024))


def test_a_backslash_named_nested_archive_schema_fetches_nothing(tmp_path: Path, listener: Listener) -> None:  # noqa: F811
    """The same naming hides a nested archive: ``sub/x\\charts\\inner-0.1.0.tgz`` is ``charts/inner-0.1.0.tgz``
    for Helm (a subchart it loads) and ``sub/x/charts/inner-0.1.0.tgz`` (not at chart level) for handoff."""
    require_tool("helm")
    schema = {"properties": {"mode": {"$ref": f"{listener.url}/schema.json"}}}
    inner = _tgz(_member("inner/Chart.yaml", b"apiVersion: v2\nname: inner\nversion: 0.1.0\n")
                 + _member("inner/values.yaml", b"mode: hello\n")
                 + _member("inner/values.schema.json", json.dumps(schema).encode()))
    repo = _repo(tmp_path / "repo", {})
    outer = _tgz(_member("sub/Chart.yaml", b"apiVersion: v2\nname: sub\nversion: 0.1.0\n")
                 + _member("sub/values.yaml", b"mode: hello\n") + _member("sub/templates/cm.yaml", SUB_TEMPLATE)
                 + _member("sub/x\\charts\\inner-0.1.0.tgz", inner))
    (repo / "chart" / "charts" / "sub-0.1.0.tgz").write_bytes(outer)
    done = _validate(repo)
    assert listener.requests == [], (f"helm fetched {listener.requests} at render time through the schema of a "
                                     "nested archive named `sub/x\\charts\\inner-0.1.0.tgz` (Helm: "
                                     "charts/inner-0.1.0.tgz; handoff: sub/x/charts/…, never scanned): "
                                     f"{done.stderr.strip()[:300]}")
