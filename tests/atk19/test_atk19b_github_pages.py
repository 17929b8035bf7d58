"""atk19b: reading GitHub commit statuses past the first page, against the forge contract server (every
request checked against GitHub's OpenAPI description), made to paginate as GitHub documents for
`GET /repos/{owner}/{repo}/commits/{ref}/statuses`: newest first, `per_page` at most 100 (default 30) and
`page`. Fails today (see /work/scratch/atk19b-report.md)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from handoff.commitstatus.github import GitHubStatuses
from handoff.redact import forget_all
from handoff.retry import RetryPolicy
from tests.commitstatus.servers import GitHubStatusServer

TOKEN = "ghs_statusOnlyToken0123456789abcdef"
SHA = "b" * 40


class PagingGitHub(GitHubStatusServer):
    """GitHub's documented paging of the statuses list (the shared contract server returns every item)."""

    def op_repos_list_commit_statuses_for_ref(self, params: dict[str, str], query: dict[str, str], body: Any
                                              ) -> tuple[int, Any]:
        _, everything = super().op_repos_list_commit_statuses_for_ref(params, query, body)
        per_page = min(100, int(query.get("per_page", "30")))
        page = int(query.get("page", "1"))
        return 200, everything[(page - 1) * per_page: page * per_page]


@pytest.fixture
def github() -> Iterator[PagingGitHub]:
    srv = PagingGitHub(TOKEN)
    yield srv
    srv.stop()
    forget_all()


def test_a_context_whose_latest_status_is_older_than_the_newest_hundred_is_still_read(
        github: PagingGitHub) -> None:
    """Sharded sources with `context: handoff/{env}/{source}` (docs/reconciler.md, Known limits), 60 of
    them on one config commit, each posting applying then healthy: 120 statuses. read() asks for one
    page of 100 (newest first) and stops, so the first ten sources' contexts are missing: `handoff wait`
    for them times out (124) and the promote gate sees "no status" though every source is healthy.
    GitHub's combined status (`GET /repos/{o}/{r}/commits/{ref}/status`, latest per context) or
    following `page` would find them."""
    statuses = GitHubStatuses("acme/config", TOKEN, base_url=github.base_url,
                              retry=RetryPolicy(attempts=1, sleep=lambda s: None))
    contexts = [f"handoff/dev/web-{n:02d}" for n in range(60)]
    for context in contexts:
        statuses.post(SHA, context, "applying", "applying")
        statuses.post(SHA, context, "healthy", "2/2 available")
    got = statuses.read(SHA)
    missing = [c for c in contexts if c not in got]
    assert not missing, f"{len(missing)} contexts not read, e.g. {missing[:3]}"
    assert all(got[c].state == "healthy" for c in contexts)
    assert github.violations == [], "\n".join(github.violations)
