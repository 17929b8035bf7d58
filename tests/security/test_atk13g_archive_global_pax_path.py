"""atk13g: a PAX *global* header ``path`` record renames, for Python's ``tarfile``, every later archive member
that has its own (local) PAX header; Go's ``archive/tar`` (Helm) applies global records to nothing. So a
subchart archive member that Helm loads as ``sub/values.schema.json`` is read by handoff as
``sub/README.md`` and skipped by the ``$ref`` scan.

``handoff/render/chart_files.py`` ``_archive`` takes ``member.name`` as Python's ``tarfile`` reports it
(global ``path`` merged in, ``tarfile.py`` ``_proc_pax``: ``pax_headers = tarfile.pax_headers.copy()``), while
Go's reader returns the global header as an entry of its own (type ``g``) and names the next member by its
ustar name and local PAX records only. The schema's ``$ref`` then reads a file outside the repo (quoted in
the render error) or fetches a URL at render time. What should hold: handoff reads an archive's names as Helm
does (ignore global ``path``/``linkpath`` records, or refuse an archive holding a global header).
"""

from __future__ import annotations

import io
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

SECRET = "atk13g-outside-secret-5e2a91"
SUB_TEMPLATE = (b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: sub\ndata:\n"
                b"  mode: {{ .Values.mode | quote }}\n")


def _archive(path: Path, schema: dict[str, object]) -> None:
    entries = [("sub/Chart.yaml", b"apiVersion: v2\nname: sub\nversion: 0.1.0\n"),
               ("sub/values.yaml", b"mode: hello\n"),
               ("sub/templates/cm.yaml", SUB_TEMPLATE),
               ("sub/values.schema.json", json.dumps(schema).encode())]
    # the global header's path renames (for Python only) each member carrying a local PAX header without path
    with tarfile.open(path, "w:gz", format=tarfile.PAX_FORMAT, pax_headers={"path": "sub/NOTES.md"}) as archive:
        for name, data in entries:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            if name.endswith("values.schema.json"):
                info.pax_headers = {"comment": "atk13g"}
            archive.addfile(info, io.BytesIO(data))


def _repo(root: Path, schema: dict[str, object]) -> Path:
    files = {".handoff.yaml": "environments:\n  dev: {render: {type: helm, path: chart}}\n",
             "chart/Chart.yaml": "apiVersion: v2\nname: web\nversion: 0.1.0\ndependencies:\n- name: sub\n"
                                 "  version: 0.1.0\n",
             "chart/values.yaml": "mode: hello\n",
             "chart/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  a: b\n"}
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    (root / "chart" / "charts").mkdir()
    _archive(root / "chart" / "charts" / "sub-0.1.0.tgz", schema)
    return root


def _validate(repo: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "handoff", "validate", "--config-repo", str(repo), "--env", "dev",
                           "--output", "json"], capture_output=True, text=True, timeout=300, check=False, cwd=repo,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])})


def test_a_globally_renamed_archive_schema_reads_and_quotes_no_file_outside_the_repo(tmp_path: Path) -> None:
    require_tool("helm")
    outside = tmp_path / "outside" / "creds.json"
    outside.parent.mkdir()
    outside.write_text(json.dumps({"const": SECRET}))
    done = _validate(_repo(tmp_path / "repo", {"properties": {"mode": {"$ref": f"file://{outside}"}}}))
    assert leaks({"validate stdout": done.stdout, "validate stderr": done.stderr}, [SECRET]) == [], (
        "a subchart archive whose PAX global header renames (for Python's tarfile only) the member Helm loads "
        "as values.schema.json hides it from handoff's $ref scan: its file:// $ref read a file outside the "
        f"config repo into validate's output: {done.stdout.strip()[:400]} {done.stderr.strip()[:400]}")
    assert done.returncode != 0 and "values.schema.json" in done.stdout + done.stderr


def test_a_globally_renamed_archive_schema_fetches_nothing(tmp_path: Path, listener: Listener) -> None:  # noqa: F811
    require_tool("helm")
    _validate(_repo(tmp_path / "repo", {"properties": {"mode": {"$ref": f"{listener.url}/schema.json"}}}))
    assert listener.requests == [], (f"helm fetched {listener.requests} at render time through a subchart "
                                     "values.schema.json archive member that a PAX global header renames for "
                                     "handoff's scan only")
