"""``handoff wait --commit PREFIX``: only commits count as candidates (a blob sharing the prefix is not
ambiguous), and a prefix no commit has says so. Over the real git server as the local-forge config repo."""

from __future__ import annotations

import hashlib
import subprocess

import pytest

from handoff.cli import main
from tests.harness.git_server import GitServer


def _git(server: GitServer, *args: str, data: bytes | None = None) -> str:
    return subprocess.run(["git", "-C", str(server.bare_path("config")), *args], check=True, input=data,
                          capture_output=True).stdout.decode().strip()


def _wait(server: GitServer, url: str, commit: str) -> int:
    return main(["wait", "--env", "dev", "--commit", commit, "--timeout", "300ms", "--interval", "100ms",
                 "--config-repo", url, "--forge", "local", "--token-env", "STATUS_TOKEN",
                 "--git-username", str(server.username)])


def _blob_with_prefix(prefix: str) -> bytes:
    for n in range(10_000_000):
        body = f"blob {n}\n".encode()
        if hashlib.sha1(b"blob %d\0" % len(body) + body).hexdigest().startswith(prefix):
            return body
    raise AssertionError("no blob with the prefix found")


def test_a_blob_sharing_the_prefix_does_not_make_it_ambiguous(git_server: GitServer,
                                                              monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    url = git_server.create_repo("config", {"README.md": "config\n"})
    monkeypatch.setenv("STATUS_TOKEN", str(git_server.password))
    head = _git(git_server, "rev-parse", "main")
    blob = _blob_with_prefix(head[:4])
    tree = _git(git_server, "mktree", data=f"100644 blob {_git(git_server, 'hash-object', '-w', '--stdin', data=blob)}"
                                            "\tnoise\n".encode())
    child = _git(git_server, "commit-tree", tree, "-p", head, "-m", "noise")
    _git(git_server, "update-ref", "refs/heads/main", child)
    if child.startswith(head[:4]):
        pytest.skip("the new commit shares the prefix too")
    assert _wait(git_server, url, head[:4]) == 124  # resolved to the one commit: waited, no status came
    assert "ambiguous" not in capsys.readouterr().err


def test_a_prefix_no_commit_has_says_so(git_server: GitServer, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    url = git_server.create_repo("config", {"README.md": "config\n"})
    monkeypatch.setenv("STATUS_TOKEN", str(git_server.password))
    head = _git(git_server, "rev-parse", "main")
    unknown = "0000" if not head.startswith("0000") else "ffff"
    assert _wait(git_server, url, unknown) == 2
    err = capsys.readouterr().err
    assert f"has no commit {unknown}" in err and "ambiguous" not in err
