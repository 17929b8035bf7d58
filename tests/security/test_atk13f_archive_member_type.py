"""atk13f: a subchart archive member of a tar type Python's ``tarfile`` does not call a file hides a
``values.schema.json`` from handoff's scan, and Helm still loads it.

``handoff/render/chart_files.py`` ``_archive`` yields only members with ``member.isfile()`` (tar types
``0``, ``\\0``, ``7`` and GNU sparse). Helm's archive loader skips only directories (``Typeflag ==
TypeDir``) and reads every other entry's data as a file, so an entry ``sub/values.schema.json`` with a
vendor typeflag such as ``Z`` is Helm's subchart schema, and ``refuse_schema_refs`` never sees it: its
``$ref`` reads a file outside the repo (quoted in the render error) or fetches a URL at render time. The
same entry with the regular type is refused (checked: ``chart/charts/sub-0.1.0.tgz:sub/values.schema.json:
at /properties/mode/$ref: … is refused``). What should hold: whatever Helm reads from an archive is what
handoff scans (or an archive holding an entry of any other type is refused).
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

SECRET = "atk13f-outside-secret-9c1d7e"
SUB_TEMPLATE = (b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: sub\ndata:\n"
                b"  mode: {{ .Values.mode | quote }}\n")


def _archive(path: Path, schema: dict[str, object]) -> None:
    entries = [("sub/Chart.yaml", b"apiVersion: v2\nname: sub\nversion: 0.1.0\n", tarfile.REGTYPE),
               ("sub/values.yaml", b"mode: hello\n", tarfile.REGTYPE),
               ("sub/templates/cm.yaml", SUB_TEMPLATE, tarfile.REGTYPE),
               ("sub/values.schema.json", json.dumps(schema).encode(), b"Z")]  # a vendor-specific typeflag
    with tarfile.open(path, "w:gz", format=tarfile.USTAR_FORMAT) as archive:
        for name, data, kind in entries:
            info = tarfile.TarInfo(name)
            info.size, info.type = len(data), kind
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


def test_a_hidden_archive_schema_reads_and_quotes_no_file_outside_the_repo(tmp_path: Path) -> None:
    require_tool("helm")
    outside = tmp_path / "outside" / "creds.json"
    outside.parent.mkdir()
    outside.write_text(json.dumps({"const": SECRET}))
    done = _validate(_repo(tmp_path / "repo", {"properties": {"mode": {"$ref": f"file://{outside}"}}}))
    assert leaks({"validate stdout": done.stdout, "validate stderr": done.stderr}, [SECRET]) == [], (
        "a values.schema.json archive entry of tar type 'Z' is skipped by handoff's scan but loaded by Helm: "
        f"its file:// $ref read a file outside the config repo into validate's output: {done.stderr.strip()}")
    assert done.returncode != 0 and "values.schema.json" in done.stdout + done.stderr


def test_a_hidden_archive_schema_fetches_nothing(tmp_path: Path, listener: Listener) -> None:  # noqa: F811
    require_tool("helm")
    _validate(_repo(tmp_path / "repo", {"properties": {"mode": {"$ref": f"{listener.url}/schema.json"}}}))
    assert listener.requests == [], (f"helm fetched {listener.requests} at render time through a subchart "
                                     "values.schema.json archive entry of tar type 'Z', which handoff's scan skips")
