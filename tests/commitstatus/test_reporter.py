"""The reconciler's reporting: what each pass says about its revision, posted once per change of a
(commit, context), through the local backend over the real git server; and the ``status:`` config."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from handoff.commitstatus import NOTES_REF, LocalStatuses
from handoff.errors import ConfigError
from handoff.git.command import GitAuth
from handoff.git.notes import GitNotes
from handoff.reconciler import status
from handoff.reconciler.config import Source, StatusSettings, load_settings
from handoff.reconciler.metrics import Metrics
from handoff.reconciler.report_status import StatusReporter, deploy_state
from tests.harness.git_server import GitServer

A, B = "a" * 40, "b" * 40


def result(**kw: object) -> status.PassResult:
    return status.PassResult(**{"source": "web-dev", "result": status.SUCCEEDED, **kw})  # type: ignore[arg-type]


def test_what_a_pass_says() -> None:
    assert deploy_state(result(applied_revision=A, attempted_revision=A, health={"Progressing": 1, "Healthy": 2})
                        ) == (A, "applying", "1 object(s) rolling out")
    assert deploy_state(result(applied_revision=A, health={"Healthy": 3, "Unknown": 1}))[1] == "healthy"
    assert deploy_state(result(applied_revision=A, health={"Degraded": 1, "Progressing": 1}))[1] == "degraded"
    failed = result(result=status.FAILED, attempted_revision=B, applied_revision=A, message="invalid",
                    error_kind="validate")
    assert deploy_state(failed) == (B, "failed", "invalid")
    # the git server was down: nothing is known about any revision
    assert deploy_state(result(result=status.FAILED, attempted_revision=B, error_kind="git")) is None
    assert deploy_state(result(applied_revision=A)) is None  # a drift pass with no health says nothing


def test_posts_only_on_change_and_counts_calls(git_server: GitServer, tmp_path: Path) -> None:
    url = git_server.create_repo("config", {"README.md": "x\n"})
    commit = subprocess.run(["git", "-C", str(git_server.bare_path("config")), "rev-parse", "main"],
                            check=True, capture_output=True, text=True).stdout.strip()
    token = tmp_path / "token"
    token.write_text(f"{git_server.password}\n")
    settings = StatusSettings(kind="local", token_file=str(token), username=str(git_server.username),
                              target_url="https://ci.example/{env}/{revision}")
    metrics = Metrics()
    reporter = StatusReporter(settings, tmp_path / "work", metrics)
    source = Source(name="web-dev", url=url, env="dev")
    for health in ({"Progressing": 1}, {"Progressing": 1}, {"Healthy": 1}, {"Healthy": 1}):
        reporter.report(source, result(applied_revision=commit, attempted_revision=commit, health=health))
    assert reporter.posted.labels("web-dev", "applying")._value.get() == 1
    assert reporter.posted.labels("web-dev", "healthy")._value.get() == 1
    assert reporter.api_calls.labels("web-dev")._value.get() == 4  # this revision: 2 posts × fetch + push
    assert b"handoff_commit_status_posts_total" in metrics.exposition()
    reader = LocalStatuses(GitNotes(url, tmp_path / "r", NOTES_REF,
                                    auth=GitAuth(str(git_server.username), str(git_server.password))))
    seen = reader.read(commit)["handoff/dev"]
    assert seen.state == "healthy" and seen.target_url == f"https://ci.example/dev/{commit}"


def test_a_post_that_fails_is_counted_and_tried_again(tmp_path: Path) -> None:
    settings = StatusSettings(kind="local", url="http://127.0.0.1:9/none.git")
    reporter = StatusReporter(settings, tmp_path / "work", Metrics())
    source = Source(name="web-dev", url="http://127.0.0.1:9/none.git")
    reporter.report(source, result(applied_revision=A, health={"Healthy": 1}))
    reporter.report(source, result(applied_revision=A, health={"Healthy": 1}))
    assert reporter.failed.labels("web-dev")._value.get() == 2


def _config(tmp_path: Path, status_block: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text("sources:\n  - name: web\n    url: https://git.example/config.git\n" + status_block)
    return path


def test_status_block_is_parsed(tmp_path: Path) -> None:
    settings = load_settings(_config(tmp_path, "status:\n  kind: github\n  project: acme/config\n"
                                               "  tokenFile: /var/run/secrets/status/token\n"
                                               "  context: deploy/{env}\n"))
    assert settings.status == StatusSettings(kind="github", project="acme/config",
                                             token_file="/var/run/secrets/status/token", context="deploy/{env}")
    assert load_settings(_config(tmp_path, "")).status is None


@pytest.mark.parametrize(("block", "message"), [
    ("status:\n  kind: gitlab\n  tokenFile: /t\n", r"config.yaml:5: at status.project: gitlab commit statuses need project"),
    ("status:\n  kind: local\n  context: x/{cluster}\n", r"config.yaml:6: at status.context: .*only \{env\} and \{source\}"),
    ("status:\n  kind: local\n  url: https://u:p@git.example/c.git\n", r"config.yaml:6: at status.url"),
    ("status:\n  kind: bitbucket\n", r"config.yaml:5"),
])
def test_status_block_errors_name_file_line_and_key(tmp_path: Path, block: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(_config(tmp_path, block))
