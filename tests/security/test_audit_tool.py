"""tools/audit.py against a local index serving PyPI's JSON API shapes (project and per-release documents,
vulnerability records as PyPI publishes them from OSV). Run as the script CI would run."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

AUDIT = Path(__file__).resolve().parents[2] / "tools" / "audit.py"


def vuln(ident: str, fixed: list[str], withdrawn: str | None = None) -> dict[str, Any]:
    return {"id": ident, "aliases": [f"CVE-{ident}"], "details": "...", "summary": None, "fixed_in": fixed,
            "link": f"https://osv.dev/vulnerability/{ident}", "source": "osv", "withdrawn": withdrawn}


def project(latest: str, versions: dict[str, bool], vulns: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """``versions``: version -> yanked."""
    releases = {v: [{"filename": f"p-{v}.tar.gz", "yanked": y, "yanked_reason": "broken build" if y else None}]
                for v, y in versions.items()}
    return {"info": {"version": latest}, "releases": releases, "urls": [], "vulnerabilities": vulns or []}


DOCUMENTS: dict[str, Any] = {
    "/pypi/current/json": project("2.0", {"1.0": False, "2.0": False}),
    "/pypi/old/json": project("3.0", {"1.0": False, "3.0": False}),
    "/pypi/released/json": project("5.0", {"4.0": False, "5.0": False}),
    "/pypi/released/4.0/json": {"info": {"version": "4.0"}, "vulnerabilities": [vuln("PYSEC-1", ["4.1"])]},
    "/pypi/bad-latest/json": project("1.0", {"1.0": False}, [vuln("PYSEC-2", []), vuln("PYSEC-3", [], "2024")]),
    "/pypi/withdrawn-only/json": project("1.0", {"1.0": False}, [vuln("PYSEC-4", [], "2024-01-01")]),
    "/pypi/yanked/json": project("2.0", {"1.0": True, "2.0": False}),
}


@pytest.fixture
def index() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            document = DOCUMENTS.get(self.path)
            body = json.dumps(document).encode() if document is not None else b"Not Found"
            self.send_response(200 if document is not None else 404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def audit(tmp_path: Path, index: str, lock: str, *extra: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "requirements.lock").write_text(lock)
    return subprocess.run([sys.executable, str(AUDIT), "-r", str(tmp_path / "requirements.lock"), "--index", index,
                           *extra], capture_output=True, text=True, timeout=60, check=False)


def test_latest_pins_are_audited_from_the_project_page(tmp_path: Path, index: str) -> None:
    done = audit(tmp_path, index, "current==2.0\nwithdrawn-only==1.0\n")
    assert done.returncode == 0, done.stdout
    assert done.stdout.splitlines()[-1].startswith("audited 2 of 2 locked packages (100%): 0 from per-release data, "
                                                   "2 from the project page")


def test_a_vulnerable_locked_version_fails(tmp_path: Path, index: str) -> None:
    done = audit(tmp_path, index, "# comment\nreleased==4.0\nbad-latest==1.0\ncurrent==2.0\n")
    assert done.returncode == 1
    assert "VULNERABLE  released==4.0: PYSEC-1 (CVE-PYSEC-1): fixed in 4.1" in done.stdout
    assert "VULNERABLE  bad-latest==1.0: PYSEC-2 (CVE-PYSEC-2): fixed in no fixed version" in done.stdout
    assert "PYSEC-3" not in done.stdout  # withdrawn


def test_unauditable_pins_are_counted_not_passed_silently(tmp_path: Path, index: str) -> None:
    done = audit(tmp_path, index, "old==1.0\ncurrent==2.0\n")
    assert done.returncode == 0
    assert "NOT AUDITED                 old==1.0: locked 1.0, latest 3.0" in done.stdout
    assert "audited 1 of 2 locked packages (50%)" in done.stdout and "1 not audited" in done.stdout
    strict = audit(tmp_path, index, "old==1.0\ncurrent==2.0\n", "--min-coverage", "0.9")
    assert strict.returncode == 2 and "coverage 50% is below the required 90%" in strict.stdout


def test_yanked_or_missing_versions_fail(tmp_path: Path, index: str) -> None:
    done = audit(tmp_path, index, "yanked==1.0\ncurrent==9.9\nnowhere==1.0\n")
    assert done.returncode == 1
    assert "FAILED      yanked==1.0: version 1.0 was yanked (broken build)" in done.stdout
    assert "FAILED      current==9.9: version 9.9 does not exist on the index" in done.stdout
    assert "FAILED      nowhere==1.0: not found on the index" in done.stdout


def test_an_unreachable_index_is_not_a_pass(tmp_path: Path) -> None:
    done = audit(tmp_path, "http://127.0.0.1:9", "current==2.0\n", "--timeout", "5")
    assert done.returncode == 2 and "the index was unreachable" in done.stdout
