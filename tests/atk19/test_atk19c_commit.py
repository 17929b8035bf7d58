"""atk19c: breaks of ``handoff wait --commit`` resolution (``resolve_commit`` in handoff/workflows/wait.py),
over the harness git server as the local-forge config repo. Each test FAILS today; its assertion message
says what should hold."""

from __future__ import annotations

import hashlib
import subprocess

import pytest

from handoff.cli import main
from tests.harness.git_server import GitServer


def _git(server: GitServer, *args: str, data: bytes | None = None) -> str:
    return subprocess.run(["git", "-C", str(server.bare_path("config")), *args], check=True, input=data,
                          capture_output=True).stdout.decode().strip()


def _wait(server: GitServer, url: str, commit: str) -> list[str]:
    return ["wait", "--env", "dev", "--commit", commit, "--timeout", "300ms", "--interval", "100ms",
            "--config-repo", url, "--forge", "local", "--token-env", "STATUS_TOKEN",
            "--git-username", str(server.username)]


def _child_with_prefix(tree: str, parent: str, prefix: str) -> bytes:
    """A commit object on ``parent`` whose SHA starts with ``prefix`` (found by trying messages)."""
    for n in range(10_000_000):
        body = (f"tree {tree}\nparent {parent}\nauthor a <a@x> 1700000000 +0000\n"
                f"committer a <a@x> 1700000000 +0000\n\ntry {n}\n").encode()
        if hashlib.sha1(b"commit %d\0" % len(body) + body).hexdigest().startswith(prefix):
            return body
    raise AssertionError("no commit with the prefix found")


def test_an_ambiguous_prefix_says_so(git_server: GitServer, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    url = git_server.create_repo("config", {"README.md": "config\n"})
    monkeypatch.setenv("STATUS_TOKEN", str(git_server.password))
    first = _git(git_server, "rev-parse", "main")
    body = _child_with_prefix(_git(git_server, "rev-parse", "main^{tree}"), first, first[:4])
    second = _git(git_server, "hash-object", "-t", "commit", "-w", "--stdin", data=body)
    _git(git_server, "update-ref", "refs/heads/main", second)
    code = main(_wait(git_server, url, first[:4]))
    err = capsys.readouterr().err
    assert code == 2 and "ambiguous" in err and first[:12] in err and second[:12] in err, (
        f"--commit {first[:4]} names two commits of the base branch ({first[:12]}, {second[:12]}): the "
        f"error must say it is ambiguous and name both, not that the config repo has no such commit; "
        f"today (exit {code}): {err.strip()}")
