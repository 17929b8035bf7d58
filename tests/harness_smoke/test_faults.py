"""Fault handles other tests rely on: etcd outages, truncated packs, big chunked pushes, concurrent pushers."""

import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.harness.apiserver import ApiServer
from tests.harness.git_server import GitServer
from tests.harness.http import Response, request

pytestmark = pytest.mark.tools


def _git(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)


def _auth(server: GitServer) -> list[str]:
    return ["-c", f"http.extraHeader=Authorization: {server.auth_header()}"]


@pytest.mark.slow
def test_apiserver_reports_etcd_down_and_recovers(apiserver: ApiServer) -> None:
    def get(path: str) -> Response:
        return request(
            f"{apiserver.url}{path}", headers=apiserver.auth_headers(), context=apiserver.ssl_context()
        )

    apiserver.stop_etcd()
    try:
        down = get("/readyz?verbose")
    finally:
        apiserver.start_etcd()
    listed = get("/api/v1/namespaces")

    assert down.status == 500
    assert b"[-]etcd failed" in down.body
    assert listed.status == 200


def test_truncated_pack_breaks_one_clone_only(git_server: GitServer, tmp_path: Path) -> None:
    url = git_server.create_repo("cut", {"data.bin": os.urandom(200_000)})
    git_server.truncate_next_pack(1)

    broken = _git(*_auth(git_server), "clone", url, str(tmp_path / "a"))
    whole = _git(*_auth(git_server), "clone", url, str(tmp_path / "b"))

    assert broken.returncode != 0
    assert whole.returncode == 0, whole.stderr


def test_large_push_is_sent_chunked_and_stored(git_server: GitServer, tmp_path: Path) -> None:
    url = git_server.create_repo("big", {"README": "x\n"})
    work = tmp_path / "work"
    _git(*_auth(git_server), "clone", url, str(work))
    (work / "blob.bin").write_bytes(os.urandom(3_000_000))
    _git("add", "blob.bin", cwd=work)
    _git("commit", "-m", "big blob", cwd=work)

    pushed = _git(*_auth(git_server), "push", "origin", "main", cwd=work)

    assert pushed.returncode == 0, pushed.stderr
    assert any(r.headers.get("Transfer-Encoding") == "chunked" for r in git_server.logged)
    stored = _git("--git-dir", str(git_server.bare_path("big")), "cat-file", "-s", "main:blob.bin")
    assert stored.stdout.strip() == "3000000"


def test_concurrent_pushes_to_separate_branches_all_land(git_server: GitServer, tmp_path: Path) -> None:
    url = git_server.create_repo("busy", {"README": "x\n"})

    def push_branch(i: int) -> int:
        work = tmp_path / f"w{i}"
        _git(*_auth(git_server), "clone", "--quiet", url, str(work))
        (work / f"file{i}").write_text(f"{i}\n")
        _git("add", ".", cwd=work)
        _git("commit", "-m", f"change {i}", cwd=work)
        return _git(*_auth(git_server), "push", "origin", f"HEAD:refs/heads/b{i}", cwd=work).returncode

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(push_branch, range(8)))

    assert results == [0] * 8
    heads = _git("--git-dir", str(git_server.bare_path("busy")), "branch", "--list", "b*").stdout.split()
    assert sorted(heads) == sorted(f"b{i}" for i in range(8))


def test_forced_non_fast_forward_is_refused_when_denied(git_server: GitServer, tmp_path: Path) -> None:
    url = git_server.create_repo("protected", {"file": "1\n"}, deny_non_fast_forward=True)
    work = tmp_path / "work"
    _git(*_auth(git_server), "clone", url, str(work))
    (work / "file").write_text("2\n")
    _git("commit", "--amend", "-am", "rewrite history", cwd=work)

    forced = _git(*_auth(git_server), "push", "--force", "origin", "main", cwd=work)

    assert forced.returncode != 0
    assert "non-fast-forward" in forced.stderr


def test_restarted_server_keeps_port_and_repos(git_server: GitServer, tmp_path: Path) -> None:
    url = git_server.create_repo("kept", {"file": "1\n"})
    git_server.stop()

    refused = _git(*_auth(git_server), "ls-remote", url)
    git_server.start()
    listed = _git(*_auth(git_server), "ls-remote", url)

    assert refused.returncode != 0
    assert "refs/heads/main" in listed.stdout
