"""The reporter when several sources share one context (two clusters or two paths of one env), its
after-pass hook when something unexpected breaks, and the ``status.targetUrl`` check at load; over the
real git server and the local forge's notes ref."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from handoff.commitstatus import NOTES_REF, CommitStatus, LocalStatuses
from handoff.errors import ConfigError
from handoff.git.command import GitAuth
from handoff.git.notes import GitNotes
from handoff.reconciler import health
from handoff.reconciler.config import Source, StatusSettings, load_settings
from handoff.reconciler.metrics import Metrics
from handoff.reconciler.report_status import StatusReporter, deploy_state
from handoff.reconciler.status import SUCCEEDED, PassResult
from tests.harness.git_server import GitServer

HEALTHY_3 = {health.HEALTHY: 3}
DEGRADED_1 = {health.DEGRADED: 1, health.HEALTHY: 2}


class Remote:
    def __init__(self, server: GitServer, tmp_path: Path) -> None:
        self.server, self.tmp_path = server, tmp_path
        self.url = server.create_repo("config", {"README.md": "x\n"})
        bare = str(server.bare_path("config"))
        self.commit = subprocess.run(["git", "-C", bare, "rev-parse", "main"], check=True, capture_output=True,
                                     text=True).stdout.strip()
        (tmp_path / "token").write_text(str(server.password), encoding="utf-8")
        self.settings = StatusSettings(kind="local", token_file=str(tmp_path / "token"),
                                       username=str(server.username),
                                       target_url="https://ci.example/{env}/{source}/{revision}")
        self.reads = 0

    def read(self, commit: str, context: str = "handoff/dev") -> CommitStatus | None:
        self.reads += 1
        auth = GitAuth(str(self.server.username), str(self.server.password))
        notes = GitNotes(self.url, self.tmp_path / f"read-{self.reads}", NOTES_REF, auth=auth)
        return LocalStatuses(notes).read(commit).get(context)


@pytest.fixture
def remote(git_server: GitServer, tmp_path: Path) -> Remote:
    return Remote(git_server, tmp_path)


def passed(source: str, commit: str, counts: dict[str, int]) -> PassResult:
    return PassResult(source, SUCCEEDED, attempted_revision=commit, applied_revision=commit, health=counts)


def posts(reporter: StatusReporter) -> float:
    return sum(s.value for m in reporter.posted.collect() for s in m.samples if s.name.endswith("_total"))


def test_the_worst_source_of_an_env_decides_and_says_which_it_is(remote: Remote, tmp_path: Path) -> None:
    reporter = StatusReporter(remote.settings, tmp_path / "reporter", Metrics())
    a = Source(name="a", url=remote.url, env="dev", path="a")
    b = Source(name="b", url=remote.url, env="dev", path="b")
    reporter.report(a, passed("a", remote.commit, HEALTHY_3))
    reporter.report(b, passed("b", remote.commit, DEGRADED_1))
    seen = remote.read(remote.commit)
    assert seen is not None and seen.state == "degraded"
    assert "b: 1 object(s) degraded" in seen.description
    assert seen.target_url == f"https://ci.example/dev/b/{remote.commit}"  # the source to look at
    reporter.report(a, passed("a", remote.commit, {health.PROGRESSING: 1}))  # still degraded overall
    assert posts(reporter) == 2
    reporter.report(b, passed("b", remote.commit, HEALTHY_3))  # b recovers; a is rolling out
    seen = remote.read(remote.commit)
    assert seen is not None and seen.state == "applying" and seen.description.startswith("applying: a: ")
    reporter.report(a, passed("a", remote.commit, HEALTHY_3))
    seen = remote.read(remote.commit)
    assert seen is not None and seen.state == "healthy"
    assert posts(reporter) == 4


def test_sources_of_other_envs_or_commits_do_not_combine(remote: Remote, tmp_path: Path) -> None:
    reporter = StatusReporter(remote.settings, tmp_path / "reporter", Metrics())
    dev = Source(name="web-dev", url=remote.url, env="dev")
    prod = Source(name="web-prod", url=remote.url, env="prod")
    reporter.report(dev, passed("web-dev", remote.commit, DEGRADED_1))
    reporter.report(prod, passed("web-prod", remote.commit, HEALTHY_3))
    dev_seen, prod_seen = remote.read(remote.commit), remote.read(remote.commit, "handoff/prod")
    assert dev_seen is not None and dev_seen.state == "degraded"
    assert prod_seen is not None and prod_seen.state == "healthy"
    assert "web-" not in prod_seen.description  # one source per context: no source prefix


def test_a_source_that_failed_to_apply_makes_its_env_failed(remote: Remote, tmp_path: Path) -> None:
    reporter = StatusReporter(remote.settings, tmp_path / "reporter", Metrics())
    a = Source(name="a", url=remote.url, env="dev", path="a")
    b = Source(name="b", url=remote.url, env="dev", path="b")
    reporter.report(a, passed("a", remote.commit, HEALTHY_3))
    reporter.report(b, PassResult("b", "Failed", attempted_revision=remote.commit, applied_revision="",
                                  message="render failed", error_kind="render"))
    seen = remote.read(remote.commit)
    assert seen is not None and seen.state == "failed" and "b: render failed" in seen.description


def test_an_unexpected_error_in_the_hook_is_logged_and_counted_not_raised(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    # built by hand, past load_settings' check: a bug of this kind must still not end the pass
    settings = StatusSettings(kind="local", url="http://127.0.0.1:9/none.git", target_url="{rev}")
    reporter = StatusReporter(settings, tmp_path / "work", Metrics())
    source = Source(name="web-dev", url="http://127.0.0.1:9/none.git", env="dev")
    reporter.report(source, passed("web-dev", "a" * 40, HEALTHY_3))
    assert reporter.failed.labels("web-dev")._value.get() == 1
    assert "cannot post the commit status" in caplog.text


def test_a_paused_rollout_is_degraded_on_the_commit_not_applying() -> None:
    said = deploy_state(passed("web", "a" * 40, {health.SUSPENDED: 1, health.PROGRESSING: 1}))
    assert said == ("a" * 40, "degraded", "1 object(s) paused mid-rollout")


@pytest.mark.parametrize("target", ["https://grafana.example/d?rev={rev}", "https://g.example/{0}",
                                    "https://g.example/d?q={", "https://g.example/{env!z}"])
def test_a_target_url_typo_names_file_line_and_key(tmp_path: Path, target: str) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("sources:\n  - name: web\n    url: https://git.example/config.git\n"
                    f"status:\n  kind: local\n  targetUrl: '{target}'\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"config\.yaml:6: at status\.targetUrl: .*only \{env\}, \{source\} "
                                          r"and \{revision\}") as e:
        load_settings(path)
    assert "\n" not in str(e.value)


def test_a_target_url_with_every_field_loads(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    url = "https://g.example/d?env={env}&src={source}&rev={revision}"
    path.write_text("sources:\n  - name: web\n    url: https://git.example/config.git\n"
                    f"status:\n  kind: local\n  targetUrl: '{url}'\n", encoding="utf-8")
    settings = load_settings(path).status
    assert settings is not None and settings.target_url == url
