"""Contract tests: handoff's GitLab forge (python-gitlab) against a local server that validates every
request, and its own responses, against shapes written from GitLab's REST docs (``gitlab_shapes/``)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from handoff.errors import ForgeAuthError, ForgeConflict, ForgeServerError
from handoff.forge import ProposalRequest
from handoff.forge.gitlab import GitLabForge
from handoff.retry import RetryPolicy
from tests.propose.contract.gitlab_server import GitLabContractServer

TOKEN = "glpat-contractTestToken0123456789"
HEAD = "handoff/prod/web"
SHA1, SHA2 = "1" * 40, "2" * 40


@pytest.fixture
def server() -> Iterator[GitLabContractServer]:
    srv = GitLabContractServer(TOKEN)
    srv.branch_heads[HEAD] = SHA1
    yield srv
    srv.stop()


def make_forge(server: GitLabContractServer, token: str = TOKEN, sleeps: list[float] | None = None,
               now: float = 1_800_000_000.0, pipeline_wait: float = 10.0) -> GitLabForge:
    policy = RetryPolicy(attempts=3, sleep=(sleeps.append if sleeps is not None else lambda s: None),
                         clock=lambda: now)
    return GitLabForge("acme/config", token, base_url=server.url, retry=policy, pipeline_wait=pipeline_wait,
                       poll_interval=2.0)


def request(**kw: object) -> ProposalRequest:
    fields: dict[str, object] = {"head": HEAD, "base": "main", "title": "handoff: web 1.2.0 in prod",
                                 "body": "body 1", "app": "web", "env": "prod", "head_sha": SHA1}
    fields.update(kw)
    return ProposalRequest(**fields)  # type: ignore[arg-type]


def no_violations(server: GitLabContractServer) -> None:
    assert server.violations == [], "\n".join(server.violations)


def test_create_then_find_and_update_in_place(server: GitLabContractServer) -> None:
    """Contract test: create an MR, find it by source/target branch, update title and description in place."""
    forge = make_forge(server)
    assert forge.find_open(HEAD, "main") is None
    created = forge.create(request())
    assert (created.number, created.url) == (1, "https://gitlab.example/acme/config/-/merge_requests/1")
    found = forge.find_open(HEAD, "main")
    assert found is not None and (found.number, found.title, found.body) == (1, "handoff: web 1.2.0 in prod",
                                                                            "body 1")
    assert forge.is_current(found, request()) and not forge.is_current(found, request(body="body 2"))
    forge.update(found, request(title="handoff: web 1.3.0 in prod", body="body 2"))
    assert len(server.mrs) == 1
    assert (server.mrs[1]["title"], server.mrs[1]["description"]) == ("handoff: web 1.3.0 in prod", "body 2")
    assert server.calls("list_merge_requests")[0]["path"].startswith("/api/v4/projects/acme%2Fconfig/")
    no_violations(server)


def test_duplicate_create_is_a_conflict(server: GitLabContractServer) -> None:
    """Contract test: GitLab answers 409 "Another open merge request already exists"; that is ForgeConflict
    (by status), which propose turns into find-and-update."""
    forge = make_forge(server)
    forge.create(request())
    with pytest.raises(ForgeConflict, match="409") as conflict:
        forge.create(request())
    assert "Another open merge request already exists" in str(conflict.value)
    no_violations(server)


def test_close_when_empty_comments_then_closes(server: GitLabContractServer) -> None:
    """Contract test: close-when-empty posts a note, then sets state_event=close; no open MR remains."""
    forge = make_forge(server)
    mr = forge.create(request())
    assert forge.close(mr, "config already at target").state == "closed"
    assert server.notes == [(1, "config already at target")]
    assert server.mrs[1]["state"] == "closed"
    assert forge.find_open(HEAD, "main") is None
    no_violations(server)


def test_labels_reviewers_assignees_draft_and_remove_source_branch(server: GitLabContractServer) -> None:
    """Contract test: labels as the documented comma-separated string, reviewers/assignees as user ids
    looked up by username (unknown ones skipped), draft as the "Draft: " title prefix, remove_source_branch."""
    forge = make_forge(server)
    forge.create(request(labels=("deploy", "prod"), reviewers=("alice", "nobody"), assignees=("bob",),
                         draft=True, delete_branch=True))
    mr = server.mrs[1]
    assert mr["labels"] == ["deploy", "prod"]
    assert [u["username"] for u in mr["reviewers"]] == ["alice"]
    assert [u["username"] for u in mr["assignees"]] == ["bob"]
    assert mr["draft"] is True and mr["title"] == "Draft: handoff: web 1.2.0 in prod"
    assert mr["force_remove_source_branch"] is True
    (create,) = server.calls("create_merge_request")
    assert create["json"]["reviewer_ids"] == [11] and create["json"]["labels"] == "deploy,prod"
    # the draft prefix is the forge's: a rerun with the same request is current, not an update
    found = forge.find_open(HEAD, "main")
    assert found is not None and forge.is_current(found, request(draft=True))
    no_violations(server)


def test_merge_when_pipeline_succeeds_waits_for_the_heads_pipeline(server: GitLabContractServer) -> None:
    """Contract test: the MR pipeline does not exist at first; handoff polls and calls /merge only once the
    pipeline for the pushed head exists, with both the new and the pre-17.11 flag and the head sha."""
    sleeps: list[float] = []
    server.pipeline_after = 2
    forge = make_forge(server, sleeps=sleeps)
    forge.create(request(auto_merge=True, delete_branch=True))
    assert len(server.calls("list_merge_request_pipelines")) == 3 and sleeps == [2.0, 2.0]
    assert server.merges == [{"iid": 1, "pipeline_existed": True, "body": {
        "merge_when_pipeline_succeeds": True, "auto_merge": True, "sha": SHA1, "should_remove_source_branch": True}}]
    # a new head: the old head's pipeline is not enough, handoff waits for the new one
    server.branch_heads[HEAD] = SHA2
    found = forge.find_open(HEAD, "main")
    assert found is not None
    forge.update(found, request(auto_merge=True, head_sha=SHA2))
    assert server.merges[-1]["pipeline_existed"] is True and server.merges[-1]["body"]["sha"] == SHA2
    assert len(server.merges) == 2
    no_violations(server)


def test_no_pipeline_in_time_means_no_auto_merge(server: GitLabContractServer,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    """Contract test: if the MR pipeline never appears within the wait, /merge is never called (it would
    merge without waiting) and a warning says so; the MR itself is still created."""
    server.pipeline_after = 1000
    forge = make_forge(server, pipeline_wait=6.0)
    assert forge.create(request(auto_merge=True)).number == 1
    assert server.merges == [] and server.calls("merge_merge_request") == []
    assert len(server.calls("list_merge_request_pipelines")) == 4
    assert "auto-merge not enabled" in caplog.text
    no_violations(server)


@pytest.mark.parametrize(("headers", "expected"), [
    ({"Retry-After": "7"}, 7.0),
    ({"RateLimit-Reset": "1800000012", "RateLimit-Remaining": "0"}, 12.0),
])
def test_rate_limit_is_retried_when_the_server_says(server: GitLabContractServer, headers: dict[str, str],
                                                    expected: float) -> None:
    """Contract test: 429 with Retry-After (seconds) or RateLimit-Reset (Unix time) waits that long, once,
    in handoff's own bounded retry (python-gitlab's uncapped in-call sleeping is off), then succeeds."""
    sleeps: list[float] = []
    server.queue(429, headers, {"message": {"error": "This endpoint has been requested too many times."}})
    assert make_forge(server, sleeps=sleeps).create(request()).number == 1
    assert sleeps == [expected]
    assert len(server.calls("create_merge_request")) == 1 and len(server.mrs) == 1
    no_violations(server)


def test_server_errors_give_up_after_bounded_attempts(server: GitLabContractServer) -> None:
    """Contract test: persistent 5xx is retried a bounded number of times, then a ForgeServerError."""
    for _ in range(3):
        server.queue(502, {}, {"message": "502 Bad Gateway"})
    with pytest.raises(ForgeServerError, match="giving up after 3 attempts"):
        make_forge(server).find_open(HEAD, "main")


def test_unauthorized_and_forbidden_are_clear_not_retried_and_never_show_the_token(
        server: GitLabContractServer, caplog: pytest.LogCaptureFixture) -> None:
    """Contract test: 401 (bad token) and 403 (no permission) are ForgeAuthErrors with a hint, sent once,
    and neither the good nor the bad token appears in the errors, logs or any URL."""
    caplog.set_level(logging.DEBUG)
    bad = "glpat-wrongTokenValue0123456789"
    with pytest.raises(ForgeAuthError, match="401") as e401:
        make_forge(server, token=bad).find_open(HEAD, "main")
    assert "token is missing, expired or invalid" in str(e401.value)
    server.queue(403, {}, {"message": "403 Forbidden"})
    with pytest.raises(ForgeAuthError, match="lacks permission") as e403:
        make_forge(server).create(request())
    assert len(server.requests) == 2
    for text in (str(e401.value), str(e403.value), caplog.text, *(r["path"] for r in server.requests)):
        assert bad not in text and TOKEN not in text
    no_violations(server)
