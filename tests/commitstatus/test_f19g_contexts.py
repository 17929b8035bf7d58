"""f19g: where statuses land and how readers find them (atk19e 1, 2, 6). A context over 255 characters
is cut the same way by the reconciler and by wait/status/promote; with an API kind the place is the
status project, whatever URL spelling a source fetches; a source context missing on a commit but seen on
the newest older commit with any counts as applying there, in ``handoff status`` too, and a shard
removed since holds only the first commit after its removal."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from handoff.commitstatus import MAX_CONTEXT, CommitStatus
from handoff.commitstatus.gitlab import GitLabStatuses
from handoff.errors import ConfigError
from handoff.reconciler.config import Source, StatusSettings
from handoff.reconciler.metrics import Metrics
from handoff.reconciler.report_status import StatusReporter, context_of
from handoff.redact import forget_all
from handoff.retry import RetryPolicy
from handoff.workflows.status_context import EnvHistory, StatusContext
from tests.atk19.test_atk19_closed_loop import Repo
from tests.commitstatus.servers import GitLabStatusServer
from tests.harness.git_server import GitServer
from tests.reconciler.test_f19b_report_status import DEGRADED_1, HEALTHY_3, passed

TOKEN = "glpat-statusOnlyToken0123456789"
SHA = "c4" * 20


def _source(name: str, env: str = "dev") -> Source:
    return Source(name=name, url="https://git.example/config.git", env=env)


def test_a_long_literal_context_is_cut_alike_by_the_reconciler_and_the_readers() -> None:
    env = "e" * 300
    posted = context_of(StatusSettings(kind="local"), _source("web", env))
    assert len(posted) == MAX_CONTEXT and posted == StatusContext.of("handoff/{env}", env).filled
    other = context_of(StatusSettings(kind="local"), _source("web", env + "x"))
    assert other != posted and len(other) == MAX_CONTEXT  # a stable hash of the whole tells them apart


def test_a_long_source_name_is_cut_where_source_stands() -> None:
    settings = StatusSettings(kind="local", context="{source}@handoff/{env}")
    long_a, long_b = "n" * 300 + "a", "n" * 300 + "b"
    one, two = context_of(settings, _source(long_a)), context_of(settings, _source(long_b))
    assert len(one) == len(two) == MAX_CONTEXT and one != two
    assert one.endswith("@handoff/dev") and context_of(settings, _source(long_a)) == one
    reader = StatusContext.of("{source}@handoff/{env}", "dev")
    assert reader.matching({one: CommitStatus(one, "healthy"), two: CommitStatus(two, "healthy")}) == {one, two}
    assert context_of(settings, _source("short")) == "short@handoff/dev"


@pytest.fixture
def gitlab() -> Iterator[GitLabStatusServer]:
    srv = GitLabStatusServer(TOKEN)
    yield srv
    srv.stop()
    forget_all()


def test_sources_of_one_gitlab_project_combine_whatever_their_url_spelling(
        gitlab: GitLabStatusServer, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN, encoding="utf-8")
    settings = StatusSettings(kind="gitlab", project="acme/config", api_url=gitlab.url, token_file=str(token_file))
    reporter = StatusReporter(settings, tmp_path / "reporter", Metrics())
    a = Source(name="a", url="https://gitlab.example.com/acme/config.git", env="dev")
    b = Source(name="b", url="ssh://git@gitlab.example.com/Acme/Config", env="dev")
    reporter.report(b, passed("b", SHA, DEGRADED_1))
    reporter.report(a, passed("a", SHA, HEALTHY_3))
    seen = GitLabStatuses("acme/config", TOKEN, base_url=gitlab.url,
                          retry=RetryPolicy(attempts=1, sleep=lambda s: None)).read(SHA)["handoff/dev"]
    assert seen.state == "degraded" and len(gitlab.statuses[SHA]) == 1  # a's healthy is no news: b is worse
    assert gitlab.violations == [], "\n".join(gitlab.violations)


@pytest.mark.parametrize("url", ["ssh://git:secret@git.example/config.git", "https://git@git.example/config.git",
                                 "ssh://-oProxyCommand=x@git.example/config.git"])
def test_a_url_with_credentials_is_still_refused(url: str) -> None:
    with pytest.raises(ConfigError, match="at url: the git url must not hold credentials"):
        Source(name="web", url=url)


def test_an_ssh_url_with_a_user_name_is_a_source_url() -> None:
    assert Source(name="web", url="ssh://git@git.example:2222/acme/config.git").url.startswith("ssh://git@")


def _healthy(*sources: str) -> Mapping[str, CommitStatus]:
    return {f"handoff/dev/{s}": CommitStatus(f"handoff/dev/{s}", "healthy", "healthy: ok") for s in sources}


def test_a_removed_shard_holds_only_the_first_commit_after_it() -> None:
    """b is removed after c1: c2 reads applying (b seen on c1, missing on c2); c3 reads healthy, since the
    newest older commit with statuses (c2) no longer has b. A commit outside the window reads alone."""
    statuses = {"c1": _healthy("a", "b"), "c2": _healthy("a"), "c3": _healthy("a"), "c0": {}}
    history = EnvHistory(statuses.__getitem__, StatusContext.of("handoff/{env}/{source}", "dev"),
                         ["c3", "c2", "c0", "c1"])
    at_c2 = history.status_at("c2", statuses["c2"])
    assert at_c2 is not None and at_c2.state == "applying" and at_c2.description == "handoff/dev/b: not applied yet"
    at_c3 = history.status_at("c3", statuses["c3"])
    assert at_c3 is not None and at_c3.state == "healthy"
    outside = history.status_at("elsewhere", _healthy("a"))
    assert outside is not None and outside.state == "healthy"


def test_status_shows_an_env_applying_while_a_shard_has_not_applied_the_commit(
        git_server: GitServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("STATUS_TOKEN", str(git_server.password))
    repo = Repo(git_server, tmp_path)
    repo.post(repo.old, "healthy", env="dev/a")
    repo.post(repo.old, "healthy", env="dev/b")
    repo.post(repo.bumped, "healthy", env="dev/a")
    assert repo.cli("status", "--output", "json", "--context", "handoff/{env}/{source}") == 0
    rows = {r["env"]: r for r in json.loads(capsys.readouterr().out)["rows"]}
    assert rows["dev"]["applied_revision"] == repo.bumped and rows["dev"]["health"] == "applying"
    assert "handoff/dev/b: not applied yet" in rows["dev"]["description"]
    repo.post(repo.bumped, "healthy", env="dev/b")
    assert repo.cli("status", "--output", "json", "--context", "handoff/{env}/{source}") == 0
    rows = {r["env"]: r for r in json.loads(capsys.readouterr().out)["rows"]}
    assert rows["dev"]["health"] == "healthy"
