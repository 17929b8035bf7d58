"""f19f (atk19d 7): a notes push that keeps being rejected backs off with jitter through handoff.retry,
for a bounded number of attempts, then fails as a ForgeError (over the real git server)."""

from __future__ import annotations

from pathlib import Path

import pytest

from handoff.commitstatus import LocalStatuses
from handoff.commitstatus.local import PUSH_RETRY
from handoff.errors import ForgeError
from handoff.retry import RetryPolicy
from tests.commitstatus.test_local_notes import _head, _notes
from tests.harness.git_server import GitServer


def test_a_push_rejected_every_time_backs_off_then_gives_up(git_server: GitServer, tmp_path: Path) -> None:
    url = git_server.create_repo("config", {"README.md": "config\n"})
    commit = _head(git_server, "config")
    hook = git_server.bare_path("config") / "hooks" / "pre-receive"
    hook.parent.mkdir(exist_ok=True)
    hook.write_text("#!/bin/sh\necho 'notes are frozen' >&2\nexit 1\n")
    hook.chmod(0o755)
    sleeps: list[float] = []
    draws = iter([0.5] * 20)
    policy = RetryPolicy(attempts=4, base_delay=0.05, max_delay=2.0, sleep=sleeps.append,
                         rand=lambda: next(draws))
    writer = LocalStatuses(_notes(git_server, url, tmp_path / "writer"), push_retry=policy)
    with pytest.raises(ForgeError, match="giving up after 4 attempts"):
        writer.post(commit, "handoff/dev", "healthy", "ok")
    assert sleeps == [0.025, 0.05, 0.1]  # the exponential windows, each drawn at random (jitter)


def test_the_default_retry_is_ten_attempts_bounded_in_all() -> None:
    assert PUSH_RETRY.attempts >= 10 and PUSH_RETRY.jitter > 0
    worst = sum(min(PUSH_RETRY.max_delay, PUSH_RETRY.base_delay * 2 ** (n - 1))
                for n in range(1, PUSH_RETRY.attempts))
    assert worst < 15.0
