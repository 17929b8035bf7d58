"""``handoff wait --timeout`` answers on time even when a server accepts the connection and never
answers: git's fetch of the config repo and each forge status read get at most the time left before
wait's deadline (``retry.bounded_timeout``), not their own 300 s / 30 s. A real git server and the
GitHub contract server (tests/commitstatus/servers.py); the silent server is a plain socket."""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from handoff.commitstatus.github import GitHubStatuses
from handoff.git.command import GitAuth
from handoff.redact import forget_all
from handoff.retry import RetryPolicy, bounded_by, bounded_timeout
from handoff.workflows.wait import WaitOptions, wait
from tests.commitstatus.servers import GitHubStatusServer
from tests.harness.git_server import GitServer

GH_TOKEN = "ghs_statusOnlyToken0123456789abcdef"
WAIT_SECONDS = 3.0
# far above the deadline plus one polling round, far below the unbounded call timeouts (300 s, 30 s x 5)
SOONER_THAN_UNBOUNDED = 25.0


class SilentServer:
    """Accepts every connection, reads what comes, never answers (a hung proxy or forge)."""

    def __init__(self) -> None:
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self._held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self._held.append(conn)

    def stop(self) -> None:
        self._sock.shutdown(socket.SHUT_RDWR)
        self._sock.close()
        self._thread.join()
        for conn in self._held:
            conn.close()


@pytest.fixture
def silent() -> Iterator[SilentServer]:
    srv = SilentServer()
    yield srv
    srv.stop()
    forget_all()


def _commit(git_server: GitServer) -> tuple[str, str]:
    url = git_server.create_repo("config", {"README.md": "config\n"})
    sha = subprocess.run(["git", "-C", str(git_server.bare_path("config")), "rev-parse", "main"],
                         check=True, capture_output=True, text=True).stdout.strip()
    return url, sha


def test_a_silent_config_repo_server_does_not_hold_wait_past_its_deadline(silent: SilentServer,
                                                                          tmp_path: Path) -> None:
    github = GitHubStatusServer(GH_TOKEN)
    try:
        backend = GitHubStatuses("acme/config", GH_TOKEN, base_url=github.base_url,
                                 retry=RetryPolicy(attempts=2))
        opts = WaitOptions(config_repo=f"{silent.url}/config.git", env="dev", commit="0" * 40,
                           timeout=WAIT_SECONDS, interval=1.0, workdir=tmp_path)
        started = time.monotonic()
        result = wait(opts, backend)
        took = time.monotonic() - started
    finally:
        github.stop()
    assert result.outcome == "unreadable", result
    assert took < SOONER_THAN_UNBOUNDED, (
        f"wait --timeout {WAIT_SECONDS:.0f} took {took:.0f}s: git's fetch of a server that never answers "
        "must be cut at wait's deadline, not at git's own 300 s")


def test_a_silent_forge_does_not_hold_wait_past_its_deadline(git_server: GitServer, silent: SilentServer,
                                                             tmp_path: Path) -> None:
    url, sha = _commit(git_server)
    backend = GitHubStatuses("acme/config", GH_TOKEN, base_url=silent.url, retry=RetryPolicy(base_delay=0.1))
    opts = WaitOptions(config_repo=url, env="dev", commit=sha, timeout=WAIT_SECONDS, interval=1.0,
                       git_auth=GitAuth(str(git_server.username), str(git_server.password)), workdir=tmp_path)
    started = time.monotonic()
    result = wait(opts, backend)
    took = time.monotonic() - started
    assert result.outcome in ("unreadable", "timed-out"), result
    assert result.exit_code != 0
    assert took < SOONER_THAN_UNBOUNDED, (
        f"wait --timeout {WAIT_SECONDS:.0f} took {took:.0f}s: a status read from a forge that never answers "
        "must be cut at wait's deadline, not after 30 s per attempt")


def test_a_call_gets_its_own_timeout_without_a_deadline_and_never_less_than_a_second_with_one() -> None:
    assert bounded_timeout(30.0) == 30.0
    with bounded_by(lambda: 4.0):
        assert bounded_timeout(30.0) == 4.0
        assert bounded_timeout(2.0) == 2.0
    with bounded_by(lambda: -5.0):
        assert bounded_timeout(30.0) == 1.0
