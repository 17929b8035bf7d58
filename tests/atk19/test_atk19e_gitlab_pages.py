"""atk19e: GitLab's "List the statuses of a commit" is paged (``page``/``per_page``, at most 100 a page,
ordered by id ascending: https://docs.gitlab.com/api/commits/#list-the-statuses-of-a-commit, and the
sort option added in GitLab 17.8, whose MR says "today it is only asc"). ``GitLabStatuses.read`` asks
for one page of 100 and stops, so once a commit carries more than 100 statuses (the config repo's own
pipeline jobs count: they are the commit's statuses too; or 100+ sharded ``handoff/{env}/{source}``
contexts) the newest ones, the reconciler's, are never read: `handoff wait` times out (124), the promote
gate sees "not reported". The GitHub twin was atk19b finding 7. Against the GitLab contract server
(requests checked against GitLab's documented shapes), here paging as documented. Fails today."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from handoff.commitstatus.gitlab import GitLabStatuses
from handoff.redact import forget_all
from handoff.retry import RetryPolicy
from tests.commitstatus.servers import GitLabStatusServer

TOKEN = "glpat-statusOnlyToken0123456789"
SHA = "d" * 40
NO_SLEEP = RetryPolicy(attempts=1, sleep=lambda s: None)


class PagingGitLab(GitLabStatusServer):
    """GitLab's documented offset paging of the statuses list: ``per_page`` (default 20, at most 100) items
    of ``page`` (from 1), in id order (ascending, the only order before 17.8 and the default since); without
    ``all=true`` only the latest status of each name ("Return all statuses, not only the latest ones").
    f19g: the shared contract server (tests/commitstatus/servers.py) now pages so, with GitLab's paging
    headers; this test's own copy of the paging, which read the unpaged list from it, is gone."""


@pytest.fixture
def gitlab() -> Iterator[PagingGitLab]:
    srv = PagingGitLab(TOKEN)
    yield srv
    srv.stop()
    forget_all()


def test_the_reconcilers_status_is_read_behind_a_hundred_pipeline_jobs(gitlab: PagingGitLab) -> None:
    """The config repo's merge pipeline runs a validate job per app and env (101 jobs on the commit), then
    the reconciler posts handoff/dev healthy: read() must still find handoff/dev."""
    ci = GitLabStatuses("acme/config", TOKEN, base_url=gitlab.url, retry=NO_SLEEP)
    for n in range(101):
        ci.post(SHA, f"validate: [app-{n:03d}, dev]", "healthy", "validated")
    reconciler = GitLabStatuses("acme/config", TOKEN, base_url=gitlab.url, retry=NO_SLEEP)
    reconciler.post(SHA, "handoff/dev", "healthy", "3 object(s) healthy")
    seen = GitLabStatuses("acme/config", TOKEN, base_url=gitlab.url, retry=NO_SLEEP).read(SHA)
    assert gitlab.violations == [], "\n".join(gitlab.violations)
    assert "handoff/dev" in seen and seen["handoff/dev"].state == "healthy", (
        f"{len(seen)} statuses read of 102 on the commit; handoff/dev (the newest, past the first page of "
        "100) was not read, so wait times out and the gate says 'not reported'")


def test_every_sharded_source_context_is_read(gitlab: PagingGitLab) -> None:
    """120 sharded sources (`context: handoff/{env}/{source}`, the documented sharding advice), each
    applying then healthy on one commit: every context must be read, each at its latest state."""
    statuses = GitLabStatuses("acme/config", TOKEN, base_url=gitlab.url, retry=NO_SLEEP)
    contexts = [f"handoff/dev/web-{n:03d}" for n in range(120)]
    for context in contexts:
        statuses.post(SHA, context, "applying", "1 object(s) rolling out")
    for context in contexts:
        statuses.post(SHA, context, "healthy", "1 object(s) healthy")
    got = statuses.read(SHA)
    wrong = [c for c in contexts if c not in got or got[c].state != "healthy"]
    assert gitlab.violations == [], "\n".join(gitlab.violations)
    assert not wrong, (f"{len(wrong)} of 120 contexts not read as healthy, e.g. "
                       f"{[(c, got.get(c)) for c in wrong[:2]]}")
