"""atk19c: breaks of ``handoff wait``'s exit codes against the forge contract servers
(tests/commitstatus/servers.py) and the harness git server as the config repo. Each test FAILS today;
its assertion message says what should hold."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from handoff.commitstatus.github import GitHubStatuses
from handoff.git.command import GitAuth
from handoff.redact import forget_all
from handoff.retry import RetryPolicy
from handoff.workflows.wait import WaitOptions, wait
from tests.commitstatus.servers import GitHubStatusServer
from tests.harness.git_server import GitServer

GH_TOKEN = "ghs_statusOnlyToken0123456789abcdef"
NO_SLEEP = RetryPolicy(attempts=3, sleep=lambda s: None)
# GitHub's words for a secondary rate limit, which it may answer as a 403 without Retry-After or
# x-ratelimit-remaining: 0 ("Otherwise, wait for at least one minute before retrying": REST API docs,
# "Rate limits for the REST API", "Exceeding the rate limit")
SECONDARY = ("You have exceeded a secondary rate limit. Please wait a few minutes before you try again. "
             "If you reach out to GitHub Support for help, please include the request ID.")


@pytest.fixture
def github() -> Iterator[GitHubStatusServer]:
    srv = GitHubStatusServer(GH_TOKEN)
    yield srv
    srv.stop()
    forget_all()


class _Clock:
    """Fake time for wait's polls (no real sleeping, nothing timed)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_a_github_secondary_rate_limit_403_is_not_known_yet(git_server: GitServer, github: GitHubStatusServer,
                                                           tmp_path: Path) -> None:
    url = git_server.create_repo("config", {"README.md": "config\n"})
    commit = subprocess.run(["git", "-C", str(git_server.bare_path("config")), "rev-parse", "main"],
                            check=True, capture_output=True, text=True).stdout.strip()
    backend = GitHubStatuses("acme/config", GH_TOKEN, base_url=github.base_url, retry=NO_SLEEP)
    backend.post(commit, "handoff/dev", "healthy", "3/3 available")
    github.fail_next(403, message=SECONDARY)
    clock = _Clock()
    opts = WaitOptions(config_repo=url, env="dev", commit=commit, timeout=60.0, interval=5.0,
                       git_auth=GitAuth(str(git_server.username), str(git_server.password)),
                       workdir=tmp_path)
    result = wait(opts, backend, clock=clock, sleep=clock.sleep)
    assert result.exit_code == 0, (
        "GitHub answers a secondary rate limit with 403 and no Retry-After / x-ratelimit-remaining "
        "header; it passes, so wait must poll again and see the healthy status (0), not exit 5 "
        f"('cannot be read for good'): today {result.outcome}: {result.message}")


def test_a_rate_limit_retry_after_does_not_carry_wait_past_its_deadline(
        git_server: GitServer, github: GitHubStatusServer, tmp_path: Path) -> None:
    url = git_server.create_repo("config", {"README.md": "config\n"})
    commit = subprocess.run(["git", "-C", str(git_server.bare_path("config")), "rev-parse", "main"],
                            check=True, capture_output=True, text=True).stdout.strip()
    clock = _Clock()
    # the policy the CLI uses (BackendSettings' default RetryPolicy), on the same fake clock as wait
    backend = GitHubStatuses("acme/config", GH_TOKEN, base_url=github.base_url,
                             retry=RetryPolicy(sleep=clock.sleep, clock=clock))
    for _ in range(5):
        github.fail_next(429, {"Retry-After": "60"}, message="API rate limit exceeded")
    opts = WaitOptions(config_repo=url, env="dev", commit=commit, timeout=30.0, interval=5.0,
                       git_auth=GitAuth(str(git_server.username), str(git_server.password)),
                       workdir=tmp_path)
    result = wait(opts, backend, clock=clock, sleep=clock.sleep)
    assert clock.now <= opts.timeout + opts.interval, (
        f"`wait --timeout 30s` must answer by its deadline (as timeout(1)); a read that the forge asks to "
        f"retry after the deadline is 'not known by then'; today the API backend's retry sleeps through "
        f"the Retry-After of each of its attempts inside one poll: wait answered {result.outcome} after "
        f"{clock.now:.0f}s (fake clock)")
