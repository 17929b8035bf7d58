"""GitHub reads page as GitHub documents (`per_page` at most 100, `page` from 1), against the contract
server, which pages both the statuses list and the combined status and checks each request against
GitHub's OpenAPI description."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from handoff.commitstatus.github import MAX_PAGES, PER_PAGE, GitHubStatuses
from handoff.redact import forget_all
from handoff.retry import RetryPolicy
from tests.commitstatus.servers import GitHubStatusServer

TOKEN = "ghs_statusOnlyToken0123456789abcdef"
SHA = "c" * 40
ONCE = RetryPolicy(attempts=1, sleep=lambda s: None)


@pytest.fixture
def github() -> Iterator[GitHubStatusServer]:
    srv = GitHubStatusServer(TOKEN)
    yield srv
    srv.stop()
    forget_all()


def _posted(srv: GitHubStatusServer, context: str, state: str, description: str) -> None:
    """A status as if some CI had posted it (straight into the server state: hundreds of them)."""
    srv.op_repos_create_commit_status({"sha": SHA}, {}, {"state": state, "context": context,
                                                         "description": description})


def _reads(srv: GitHubStatusServer) -> list[str]:
    return [r["path"] for r in srv.requests if r["method"] == "GET"]


def test_contexts_past_the_first_page_are_read_from_the_next_pages(github: GitHubStatusServer) -> None:
    for n in range(PER_PAGE + 30):
        _posted(github, f"handoff/dev/web-{n:03d}", "pending", "applying")
        _posted(github, f"handoff/dev/web-{n:03d}", "success", "healthy: 2/2 available")
    got = GitHubStatuses("acme/config", TOKEN, base_url=github.base_url, retry=ONCE).read(SHA)
    assert len(got) == PER_PAGE + 30
    assert {s.state for s in got.values()} == {"healthy"}
    assert len(_reads(github)) == 2 and "page=2" in _reads(github)[1]
    assert github.violations == [], "\n".join(github.violations)


def test_one_page_is_read_when_every_context_fits_on_it(github: GitHubStatusServer) -> None:
    for n in range(3):
        _posted(github, f"ci/check-{n}", "success", "ok")
    _posted(github, "handoff/dev", "failure", "degraded: 1 Deployment degraded")
    got = GitHubStatuses("acme/config", TOKEN, base_url=github.base_url, retry=ONCE).read(SHA)
    assert got["handoff/dev"].state == "degraded"
    assert len(_reads(github)) == 1


def test_reading_stops_after_a_bounded_number_of_pages(github: GitHubStatusServer) -> None:
    """A commit with more contexts than MAX_PAGES pages hold costs MAX_PAGES calls, not one per page."""
    for n in range(PER_PAGE * MAX_PAGES + 5):
        _posted(github, f"ci/shard-{n:04d}", "success", "ok")
    got = GitHubStatuses("acme/config", TOKEN, base_url=github.base_url, retry=ONCE).read(SHA)
    assert len(got) == PER_PAGE * MAX_PAGES
    assert len(_reads(github)) == MAX_PAGES


def test_the_contract_server_pages_the_statuses_list_as_github_does(github: GitHubStatusServer) -> None:
    for n in range(45):
        _posted(github, "ci/build", "pending", f"step {n}")
    first = github.op_repos_list_commit_statuses_for_ref({"ref": SHA}, {}, None)[1]
    second = github.op_repos_list_commit_statuses_for_ref({"ref": SHA}, {"page": "2"}, None)[1]
    assert len(first) == 30 and len(second) == 15  # per_page defaults to 30
    assert first[0]["description"] == "step 44"  # newest first
