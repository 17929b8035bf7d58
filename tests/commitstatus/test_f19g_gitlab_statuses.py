"""f19g: GitLab's commit statuses as GitLab's API behaves (atk19e 3, 5, 7), against the GitLab contract
server (requests and answers checked against GitLab's documented shapes): the list is read page by page,
following ``X-Next-Page``, and a short page ends it when a proxy drops the paging headers; a target_url
over 255 characters is left out, and a template that can never fit is refused at load; a running
status whose text must change is finished (``canceled``, with the new text) and started again, since
GitLab cannot move ``running`` to ``running``; a 400 for anything else is an error, whatever the state
already there."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from handoff.commitstatus.gitlab import MAX_TARGET_URL, GitLabStatuses
from handoff.errors import ConfigError, ForgeError
from handoff.reconciler.config import load_settings
from handoff.redact import forget_all
from handoff.retry import RetryPolicy
from tests.commitstatus.servers import GitLabStatusServer
from tests.propose.contract.gitlab_server import TIMESTAMP

TOKEN = "glpat-statusOnlyToken0123456789"
SHA = "b7" * 20
NO_SLEEP = RetryPolicy(attempts=1, sleep=lambda s: None)


@pytest.fixture
def gitlab() -> Iterator[GitLabStatusServer]:
    srv = GitLabStatusServer(TOKEN)
    yield srv
    srv.stop()
    forget_all()


def _statuses(gitlab: GitLabStatusServer) -> GitLabStatuses:
    return GitLabStatuses("acme/config", TOKEN, base_url=gitlab.url, retry=NO_SLEEP)


def _listed(gitlab: GitLabStatusServer) -> list[dict[str, str]]:
    return [dict(r) for r in gitlab.requests if r["endpoint"] == "list_commit_statuses"]


def test_the_list_is_read_by_its_next_page_header(gitlab: GitLabStatusServer) -> None:
    statuses = _statuses(gitlab)
    for n in range(230):
        statuses.post(SHA, f"job-{n:03d}", "healthy", "ok")
    statuses.post(SHA, "job-000", "degraded", "1 object(s) degraded")  # a name's newer status wins
    got = statuses.read(SHA)
    assert len(got) == 230 and got["job-000"].state == "degraded" and got["job-229"].state == "healthy"
    pages = [r["path"] for r in _listed(gitlab)]
    assert len(pages) == 3 and all("per_page=100" in p and "sort=desc" in p for p in pages), pages
    assert gitlab.violations == [], "\n".join(gitlab.violations)


def test_without_paging_headers_a_short_page_is_the_last(gitlab: GitLabStatusServer) -> None:
    item = {"id": 1, "sha": SHA, "ref": None, "status": "success", "target_url": None, "created_at": TIMESTAMP,
            "started_at": None, "finished_at": None, "allow_failure": False, "coverage": None,
            "author": {"id": 1, "username": "bot"}}
    gitlab.queue(200, {}, [{**item, "id": n, "name": f"job-{n}", "description": "healthy: ok"}
                           for n in range(100)])
    gitlab.queue(200, {}, [{**item, "id": 500, "name": "handoff/dev", "description": "healthy: 2 ok"}])
    got = _statuses(gitlab).read(SHA)
    assert len(got) == 101 and got["handoff/dev"].state == "healthy"
    assert len(gitlab.requests) == 2


def test_a_target_url_over_gitlabs_limit_is_left_out_and_the_state_posted(gitlab: GitLabStatusServer) -> None:
    statuses = _statuses(gitlab)
    statuses.post(SHA, "handoff/dev", "healthy", "3 object(s) healthy", "https://ci.example/" + "x" * 240)
    statuses.post(SHA, "handoff/prod", "healthy", "3 object(s) healthy", "https://ci.example/prod")
    sent = {s["name"]: s for s in gitlab.statuses[SHA]}
    assert sent["handoff/dev"]["target_url"] is None and sent["handoff/dev"]["status"] == "success"
    assert sent["handoff/prod"]["target_url"] == "https://ci.example/prod"
    assert gitlab.violations == [], "\n".join(gitlab.violations)


def _config(tmp_path: Path, kind: str, target_url: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text("sources:\n  - name: web\n    url: https://git.example/config.git\n"
                    f"status:\n  kind: {kind}\n  project: acme/config\n  tokenFile: /t\n"
                    f"  targetUrl: {target_url}\n")
    return path


def test_a_gitlab_target_url_template_that_can_never_fit_is_refused_at_load(tmp_path: Path) -> None:
    fixed = "https://grafana.example/d/deploys?rev={revision}&pad=" + "p" * (MAX_TARGET_URL - 100)
    assert load_settings(_config(tmp_path, "gitlab", fixed)).status is not None  # fits with a revision
    too_long = fixed + "q" * 60
    with pytest.raises(ConfigError, match=r"config.yaml:8: at status.targetUrl: .*GitLab refuses a target_url "
                                          r"over 255"):
        load_settings(_config(tmp_path, "gitlab", too_long))
    assert load_settings(_config(tmp_path, "github", too_long)).status is not None


def test_a_running_status_moves_to_new_text_by_a_restart(gitlab: GitLabStatusServer) -> None:
    statuses = _statuses(gitlab)
    statuses.post(SHA, "handoff/dev", "applying", "a: 1 object(s) rolling out", "https://ci.example/a")
    statuses.post(SHA, "handoff/dev", "applying", "b: 1 object(s) rolling out", "https://ci.example/b")
    sent = [(s["status"], s["description"], s["target_url"]) for s in gitlab.statuses[SHA]]
    assert sent == [("running", "applying: a: 1 object(s) rolling out", "https://ci.example/a"),
                    ("canceled", "applying: b: 1 object(s) rolling out", "https://ci.example/b"),
                    ("running", "applying: b: 1 object(s) rolling out", "https://ci.example/b")]
    seen = statuses.read(SHA)["handoff/dev"]
    assert seen.state == "applying" and seen.target_url == "https://ci.example/b"
    assert gitlab.violations == [], "\n".join(gitlab.violations)


def test_the_same_running_status_again_is_no_new_post(gitlab: GitLabStatusServer) -> None:
    """After a reconciler restart it posts what GitLab already shows: one refused post, one read, done."""
    statuses = _statuses(gitlab)
    statuses.post(SHA, "handoff/dev", "applying", "1 object(s) rolling out", "https://ci.example/a")
    before = statuses.calls
    statuses.post(SHA, "handoff/dev", "applying", "1 object(s) rolling out", "https://ci.example/a")
    assert statuses.calls - before == 2 and len(gitlab.statuses[SHA]) == 1


def test_a_400_other_than_a_refused_transition_is_an_error(gitlab: GitLabStatusServer) -> None:
    """The state already there says nothing about a 400 for another reason (a field GitLab refused)."""
    statuses = _statuses(gitlab)
    statuses.post(SHA, "handoff/dev", "healthy", "3 object(s) healthy")
    gitlab.queue(400, body={"message": {"target_url": ["is too long (maximum is 255 characters)"]}})
    with pytest.raises(ForgeError, match="400"):
        statuses.post(SHA, "handoff/dev", "healthy", "3 object(s) healthy")
