"""Contract tests: commit statuses on GitHub and GitLab, against the forge contract servers, which check
every request (and their own answers) against GitHub's OpenAPI description and GitLab's documented shapes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from handoff.commitstatus import BackendSettings, make_backend
from handoff.commitstatus.github import GitHubStatuses
from handoff.commitstatus.gitlab import GitLabStatuses
from handoff.errors import ForgeAuthError, ForgeError, ForgeServerError, UsageError
from handoff.redact import forget_all
from handoff.retry import RetryPolicy
from tests.commitstatus.servers import GitHubStatusServer, GitLabStatusServer

GH_TOKEN = "ghs_statusOnlyToken0123456789abcdef"
GL_TOKEN = "glpat-statusOnlyToken0123456789"
SHA = "a" * 40
NO_SLEEP = RetryPolicy(attempts=3, sleep=lambda s: None)


@pytest.fixture
def github() -> Iterator[GitHubStatusServer]:
    srv = GitHubStatusServer(GH_TOKEN)
    yield srv
    srv.stop()
    forget_all()


@pytest.fixture
def gitlab() -> Iterator[GitLabStatusServer]:
    srv = GitLabStatusServer(GL_TOKEN)
    yield srv
    srv.stop()
    forget_all()


def test_github_post_then_read_each_context_latest(github: GitHubStatusServer) -> None:
    statuses = GitHubStatuses("acme/config", GH_TOKEN, base_url=github.base_url, retry=NO_SLEEP)
    statuses.post(SHA, "handoff/dev", "applying", "applying revision aaaaaaaaaaaa", "https://ci.example/x")
    statuses.post(SHA, "handoff/dev", "degraded", "1 Deployment degraded: ProgressDeadlineExceeded")
    statuses.post(SHA, "handoff/prod", "healthy", "3/3 available")
    got = statuses.read(SHA)
    assert got["handoff/dev"].state == "degraded"  # told apart from failed by the description
    assert got["handoff/dev"].description.startswith("degraded: 1 Deployment")
    assert got["handoff/prod"].state == "healthy"
    sent = [s["state"] for s in github.statuses[SHA]]
    assert sent == ["pending", "failure", "success"]
    assert github.statuses[SHA][0]["target_url"] == "https://ci.example/x"
    assert statuses.calls == 4
    assert github.violations == [], "\n".join(github.violations)


def test_github_failed_and_bad_token(github: GitHubStatusServer) -> None:
    good = GitHubStatuses("acme/config", GH_TOKEN, base_url=github.base_url, retry=NO_SLEEP)
    good.post(SHA, "handoff/dev", "failed", "revision not applied: rejected by the API server")
    assert good.read(SHA)["handoff/dev"].state == "failed"
    bad = GitHubStatuses("acme/config", "ghs_wrong", base_url=github.base_url, retry=NO_SLEEP)
    with pytest.raises(ForgeAuthError, match="401"):
        bad.post(SHA, "handoff/dev", "healthy", "")
    assert github.violations == [], "\n".join(github.violations)


def test_github_5xx_is_retried_then_reported(github: GitHubStatusServer) -> None:
    statuses = GitHubStatuses("acme/config", GH_TOKEN, base_url=github.base_url, retry=NO_SLEEP)
    github.fail_next(502)
    statuses.post(SHA, "handoff/dev", "healthy", "ok")
    assert [s["state"] for s in github.statuses[SHA]] == ["success"]
    for _ in range(3):
        github.fail_next(503)
    with pytest.raises(ForgeServerError, match="giving up after 3 attempts"):
        statuses.post(SHA, "handoff/dev", "degraded", "x")


def test_github_description_is_cut_to_what_github_shows(github: GitHubStatusServer) -> None:
    statuses = GitHubStatuses("acme/config", GH_TOKEN, base_url=github.base_url, retry=NO_SLEEP)
    statuses.post(SHA, "handoff/dev", "degraded", "x" * 500 + "\nsecond line")
    description = github.statuses[SHA][0]["description"]
    assert len(description) <= 140 and "\n" not in description
    assert github.violations == [], "\n".join(github.violations)


def test_gitlab_post_then_read_each_context_latest(gitlab: GitLabStatusServer) -> None:
    statuses = GitLabStatuses("acme/config", GL_TOKEN, base_url=gitlab.url, retry=NO_SLEEP)
    statuses.post(SHA, "handoff/dev", "applying", "applying", "https://ci.example/y")
    statuses.post(SHA, "handoff/dev", "healthy", "2/2 available")
    statuses.post(SHA, "handoff/prod", "failed", "revision not applied")
    got = statuses.read(SHA)
    assert got["handoff/dev"].state == "healthy" and got["handoff/prod"].state == "failed"
    assert [s["status"] for s in gitlab.statuses[SHA]] == ["running", "success", "failed"]
    assert all(r["headers"].get("PRIVATE-TOKEN") == GL_TOKEN for r in gitlab.requests)
    assert "acme%2Fconfig" in gitlab.requests[0]["path"]
    assert statuses.calls == 4
    assert gitlab.violations == [], "\n".join(gitlab.violations)


def test_gitlab_degraded_and_failed_are_both_failed_there(gitlab: GitLabStatusServer) -> None:
    statuses = GitLabStatuses("acme/config", GL_TOKEN, base_url=gitlab.url + "/api/v4", retry=NO_SLEEP)
    statuses.post(SHA, "handoff/dev", "degraded", "pods not ready")
    assert gitlab.statuses[SHA][-1]["status"] == "failed"
    assert statuses.read(SHA)["handoff/dev"].state == "degraded"
    assert gitlab.violations == [], "\n".join(gitlab.violations)


def test_gitlab_posting_the_state_it_already_has_is_not_an_error(gitlab: GitLabStatusServer) -> None:
    """After a restart the reconciler forgets what it posted; GitLab's 400 for an unchanged state is fine."""
    statuses = GitLabStatuses("acme/config", GL_TOKEN, base_url=gitlab.url, retry=NO_SLEEP)
    statuses.post(SHA, "handoff/dev", "healthy", "ok")
    statuses.post(SHA, "handoff/dev", "healthy", "ok")
    assert [s["status"] for s in gitlab.statuses[SHA]] == ["success"]
    gitlab.queue(400, body={"message": {"state": ["is invalid"]}})
    with pytest.raises(ForgeError, match="400"):
        statuses.post(SHA, "handoff/dev", "failed", "x")
    assert gitlab.violations == [], "\n".join(gitlab.violations)


def test_registry_refuses_what_it_cannot_build() -> None:
    with pytest.raises(UsageError, match="token"):
        make_backend("github", BackendSettings(project="acme/config"))
    with pytest.raises(UsageError, match="unknown commit status backend"):
        make_backend("bitbucket", BackendSettings())
    with pytest.raises(UsageError, match="git remote"):
        make_backend("local", BackendSettings())
