"""atk13g: PAX headers name a subchart archive member differently for Python's ``tarfile`` (handoff) and Go's
``archive/tar`` (Helm), so the member Helm loads as ``sub/values.schema.json`` is ``sub/NOTES.md`` for handoff
and skipped by the ``$ref`` scan. Two spellings:

- ``global``: a PAX *global* header ``path`` record renames, for Python, every later member that has its own
  (local) PAX header; Go applies global records to nothing.
- ``two-local``: two local PAX headers in a row before one member, ``path=sub/NOTES.md`` then
  ``path=sub/values.schema.json``: Python applies the outer (first) one last, so the first wins; Go's reader
  replaces its records at each ``x`` header, so the last wins.
- ``pax-then-gnu-long-name``: a local PAX header ``path=sub/NOTES.md``, then a GNU long-name (``L``) header
  ``sub/values.schema.json``: Python applies the outer PAX path last; Go always lets a GNU long name win.

``handoff/render/chart_files.py`` ``_archive`` takes ``member.name`` as Python's ``tarfile`` reports it
(``tarfile.py`` ``_proc_pax``: global records copied into each local set; a nested ``x`` header's member
patched again by the outer one), while Go's reader returns the global header as an entry of its own (type ``g``)
and names the next member by the records of the last local header only. The schema's ``$ref`` then reads a file outside the repo (quoted in
the render error) or fetches a URL at render time. What should hold: handoff reads an archive's names as Helm
does (ignore global ``path``/``linkpath`` records, or refuse an archive holding a global header).
"""

from __future__ import annotations

import gzip
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
SPELLINGS = ["global", "two-local", "pax-then-gnu-long-name"]
SUB_TEMPLATE = (b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: sub\ndata:\n"
                b"  mode: {{ .Values.mode | quote }}\n")


def _archive(path: Path, schema: dict[str, object], spelling: str) -> None:
    if spelling != "global":
        _meta_headers(path, schema, spelling)
        return
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


def _block(data: bytes) -> bytes:
    return data + b"\0" * ((512 - len(data) % 512) % 512)


def _meta_headers(path: Path, schema: dict[str, object], spelling: str) -> None:
    """The archive written block by block: ``tarfile`` never writes two meta headers for one member."""
    def pax(records: dict[str, str]) -> bytes:
        return tarfile.TarInfo._create_pax_generic_header(records, tarfile.XHDTYPE, "utf-8")  # type: ignore[attr-defined]

    def long_name(name: str) -> bytes:
        return tarfile.TarInfo._create_gnu_long_header(  # type: ignore[attr-defined]
            name, tarfile.GNUTYPE_LONGNAME, "utf-8", "strict")

    def member(name: str, data: bytes) -> bytes:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        return info.tobuf(tarfile.USTAR_FORMAT) + _block(data)

    raw = (member("sub/Chart.yaml", b"apiVersion: v2\nname: sub\nversion: 0.1.0\n")
           + member("sub/values.yaml", b"mode: hello\n") + member("sub/templates/cm.yaml", SUB_TEMPLATE)
           + pax({"path": "sub/NOTES.md"})
           + (pax({"path": "sub/values.schema.json"}) if spelling == "two-local" else long_name("sub/values.schema.json"))
           + member("sub/x", json.dumps(schema).encode()) + b"\0" * 1024)
    with gzip.open(path, "wb") as out:
        out.write(raw)


def _repo(root: Path, schema: dict[str, object], spelling: str) -> Path:
    files = {".handoff.yaml": "environments:\n  dev: {render: {type: helm, path: chart}}\n",
             "chart/Chart.yaml": "apiVersion: v2\nname: web\nversion: 0.1.0\ndependencies:\n- name: sub\n"
                                 "  version: 0.1.0\n",
             "chart/values.yaml": "mode: hello\n",
             "chart/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  a: b\n"}
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    (root / "chart" / "charts").mkdir()
    _archive(root / "chart" / "charts" / "sub-0.1.0.tgz", schema, spelling)
    return root


def _validate(repo: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "handoff", "validate", "--config-repo", str(repo), "--env", "dev",
                           "--output", "json"], capture_output=True, text=True, timeout=300, check=False, cwd=repo,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])})


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_a_pax_renamed_archive_schema_reads_and_quotes_no_file_outside_the_repo(tmp_path: Path,
                                                                               spelling: str) -> None:
    require_tool("helm")
    outside = tmp_path / "outside" / "creds.json"
    outside.parent.mkdir()
    outside.write_text(json.dumps({"const": SECRET}))
    done = _validate(_repo(tmp_path / "repo", {"properties": {"mode": {"$ref": f"file://{outside}"}}}, spelling))
    assert leaks({"validate stdout": done.stdout, "validate stderr": done.stderr}, [SECRET]) == [], (
        f"a subchart archive whose PAX headers ({spelling}) rename (for Python's tarfile only) the member Helm loads "
        "as values.schema.json hides it from handoff's $ref scan: its file:// $ref read a file outside the "
        f"config repo into validate's output: {done.stdout.strip()[:400]} {done.stderr.strip()[:400]}")
    assert done.returncode != 0 and "values.schema.json" in done.stdout + done.stderr


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_a_pax_renamed_archive_schema_fetches_nothing(tmp_path: Path, listener: Listener,  # noqa: F811
                                                      spelling: str) -> None:
    require_tool("helm")
    _validate(_repo(tmp_path / "repo", {"properties": {"mode": {"$ref": f"{listener.url}/schema.json"}}}, spelling))
    assert listener.requests == [], (f"helm fetched {listener.requests} at render time through a subchart "
                                     f"values.schema.json archive member that PAX headers ({spelling}) rename "
                                     "for handoff's scan only")
