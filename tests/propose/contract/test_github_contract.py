"""Contract tests: handoff's GitHub forge against a local server that validates every request (and
its own responses) against GitHub's official OpenAPI description from ``@octokit/openapi``."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from handoff.errors import ForgeAuthError, ForgeConflict, ForgeServerError
from handoff.forge import ProposalRequest
from handoff.forge.github import GitHubForge
from handoff.redact import forget_all
from handoff.retry import RetryPolicy
from tests.propose.contract.github_server import GitHubContractServer

TOKEN = "ghs_contractTestToken0123456789abcdef"


@pytest.fixture
def server() -> Iterator[GitHubContractServer]:
    srv = GitHubContractServer(TOKEN)
    yield srv
    srv.stop()
    forget_all()


def make_forge(server: GitHubContractServer, token: str = TOKEN, sleeps: list[float] | None = None) -> GitHubForge:
    policy = RetryPolicy(attempts=3, sleep=(sleeps.append if sleeps is not None else lambda s: None))
    return GitHubForge("acme/config", token, base_url=server.base_url, retry=policy, throttle=False)


def request(**kw: object) -> ProposalRequest:
    base = {"head": "handoff/prod/web", "base": "main", "title": "handoff: web 1.2.0 in prod", "body": "body 1",
                "app": "web", "env": "prod"}
    base.update(kw)
    return ProposalRequest(**base)  # type: ignore[arg-type]


def test_create_then_find_and_update_in_place(server: GitHubContractServer) -> None:
    """Contract test: create a PR, find it by head/base, update title and body in place (same number)."""
    forge = make_forge(server)
    assert forge.find_open("handoff/prod/web", "main") is None
    created = forge.create(request())
    assert created.number == 1 and created.url.endswith("/pull/1")
    found = forge.find_open("handoff/prod/web", "main")
    assert found is not None and found.number == 1
    # what a rerun compares to tell "nothing to do" from "only the description changed"
    assert forge.is_current(found, request()) and not forge.is_current(found, request(body="body 2"))
    updated = forge.update(found, request(title="handoff: web 1.3.0 in prod", body="body 2"))
    assert updated.number == 1
    assert len(server.pulls) == 1
    assert server.pulls[1]["title"] == "handoff: web 1.3.0 in prod" and server.pulls[1]["body"] == "body 2"
    assert server.violations == [], "\n".join(server.violations)


def test_already_exists_is_a_conflict(server: GitHubContractServer) -> None:
    """Contract test: a second create for the same head answers 422 and maps to ForgeConflict."""
    forge = make_forge(server)
    forge.create(request())
    with pytest.raises(ForgeConflict, match="422"):
        forge.create(request())
    assert server.violations == [], "\n".join(server.violations)


def test_close_with_comment(server: GitHubContractServer) -> None:
    """Contract test: close-when-empty comments on the PR, then closes it."""
    forge = make_forge(server)
    pr = forge.create(request())
    closed = forge.close(pr, "config already at target")
    assert closed.state == "closed"
    assert server.pulls[1]["state"] == "closed"
    assert server.comments == [(1, "config already at target")]
    assert forge.find_open("handoff/prod/web", "main") is None
    assert server.violations == [], "\n".join(server.violations)


def test_labels_reviewers_assignees_draft_and_auto_merge(server: GitHubContractServer) -> None:
    """Contract test: labels, user and team reviewers, assignees, draft and GraphQL auto-merge."""
    forge = make_forge(server)
    forge.create(request(labels=("deploy", "prod"), reviewers=("alice", "acme/sre"), assignees=("bob",),
                         draft=True, auto_merge=True))
    pr = server.pulls[1]
    assert [label["name"] for label in pr["labels"]] == ["deploy", "prod"]
    assert [r["login"] for r in pr["requested_reviewers"]] == ["alice"]
    assert [t["slug"] for t in pr["requested_teams"]] == ["sre"]
    assert [a["login"] for a in pr["assignees"]] == ["bob"]
    assert pr["draft"] is True
    assert server.auto_merge == {1}
    assert server.violations == [], "\n".join(server.violations)


def test_rate_limit_is_retried_after_the_reset(server: GitHubContractServer) -> None:
    """Contract test: a 403 with X-RateLimit-Remaining: 0 waits per Retry-After, then succeeds."""
    sleeps: list[float] = []
    forge = make_forge(server, sleeps=sleeps)
    server.fail_next(403, {"X-RateLimit-Remaining": "0", "Retry-After": "7"}, "API rate limit exceeded")
    server.fail_next(502)
    assert forge.create(request()).number == 1
    assert sleeps[0] == 7.0 and len(sleeps) == 2
    assert server.violations == [], "\n".join(server.violations)


def test_server_errors_give_up_after_bounded_attempts(server: GitHubContractServer) -> None:
    """Contract test: persistent 5xx is retried a bounded number of times, then ForgeServerError."""
    forge = make_forge(server)
    for _ in range(3):
        server.fail_next(500)
    with pytest.raises(ForgeServerError, match="giving up after 3 attempts"):
        forge.find_open("handoff/prod/web", "main")


def test_unauthorized_and_forbidden_are_clear_and_not_retried(server: GitHubContractServer,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    """Contract test: 401 (bad token) and 403 (no permission) map to ForgeAuthError without retries and
    never show the token."""
    caplog.set_level(logging.DEBUG)
    bad = "ghp_wrongTokenValue0123456789abcdefXYZ"
    with pytest.raises(ForgeAuthError, match="401") as e401:
        make_forge(server, token=bad).find_open("x", "main")
    server.fail_next(403, {}, "Resource not accessible by integration")
    with pytest.raises(ForgeAuthError, match="lacks permission") as e403:
        make_forge(server).create(request())
    texts = [str(e401.value), str(e403.value), caplog.text]
    for text in texts:
        assert bad not in text and TOKEN not in text
    assert len([r for r in server.requests if r["method"] == "POST"]) == 1
