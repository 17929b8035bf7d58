"""Clone, commit and push over smart HTTP with basic auth sent as a header, never in a URL."""

import subprocess
from pathlib import Path

import pytest

from tests.harness.git_server import GitServer

pytestmark = pytest.mark.tools


def _git(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)


def _auth(server: GitServer) -> list[str]:
    return ["-c", f"http.extraHeader=Authorization: {server.auth_header()}"]


def test_clone_commit_push_with_header_credentials(git_server: GitServer, tmp_path: Path) -> None:
    url = git_server.create_repo("config", {"envs/dev/values.yaml": "image:\n  tag: v1\n"})
    work = tmp_path / "work"

    assert _git(*_auth(git_server), "clone", url, str(work)).returncode == 0
    (work / "envs/dev/values.yaml").write_text("image:\n  tag: v2\n")
    _git("commit", "-am", "bump to v2", cwd=work)
    pushed = _git(*_auth(git_server), "push", "origin", "main", cwd=work)

    assert pushed.returncode == 0, pushed.stderr
    shown = _git("--git-dir", str(git_server.bare_path("config")), "show", "main:envs/dev/values.yaml")
    assert shown.stdout == "image:\n  tag: v2\n"
    assert any("git-receive-pack" in line for line in git_server.requests)
    secrets = [git_server.username, git_server.password, git_server.auth_header().split()[1]]
    assert all(s and s not in line for s in secrets for line in git_server.requests)
    assert all(r.user == git_server.username for r in git_server.logged)


def test_clone_without_credentials_is_refused(git_server: GitServer, tmp_path: Path) -> None:
    url = git_server.create_repo("private", {"README": "secret\n"})

    cloned = _git("clone", url, str(tmp_path / "clone"))

    assert cloned.returncode != 0
    assert not (tmp_path / "clone" / "README").exists()


def test_push_from_a_stale_clone_is_rejected(git_server: GitServer, tmp_path: Path) -> None:
    url = git_server.create_repo("race", {"file": "0\n"})
    first, second = tmp_path / "first", tmp_path / "second"
    for clone in (first, second):
        _git(*_auth(git_server), "clone", url, str(clone))
        (clone / "file").write_text(f"{clone.name}\n")
        _git("commit", "-am", clone.name, cwd=clone)

    assert _git(*_auth(git_server), "push", "origin", "main", cwd=first).returncode == 0
    stale = _git(*_auth(git_server), "push", "origin", "main", cwd=second)

    assert stale.returncode != 0
    assert "rejected" in stale.stderr


def test_injected_failure_reaches_the_client(git_server: GitServer, tmp_path: Path) -> None:
    url = git_server.create_repo("flaky", {"file": "x\n"})
    git_server.fail_next(1, status=503)

    failed = _git(*_auth(git_server), "clone", url, str(tmp_path / "a"))
    retried = _git(*_auth(git_server), "clone", url, str(tmp_path / "b"))

    assert failed.returncode != 0 and "503" in failed.stderr
    assert retried.returncode == 0
