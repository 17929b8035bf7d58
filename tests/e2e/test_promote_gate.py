"""``handoff promote``'s health gate on its own, over the real git server: the source environment's commit
statuses (the local forge's notes ref, as the reconciler pushes it) decide whether promotion may go ahead."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from handoff.cli import main
from handoff.commitstatus import NOTES_REF, DeployState, LocalStatuses
from handoff.git.command import GitAuth
from handoff.git.notes import GitNotes
from handoff.workflows.promote import EXIT_UNHEALTHY
from tests.harness.git_server import GitServer
from tests.reconciler.gitrepo import WorkRepo

CONFIG = """\
environments:
  dev: {}
  prod: {}
apps:
  web:
    image: registry.example/web
    targets:
      - type: marker
        path: envs/{env}/values.yaml
"""


def values(tag: str) -> str:
    return f"image: registry.example/web:{tag} # handoff:image web\n"


class Repo:
    """The config repo: ``old`` both envs at 1.0.0, ``bumped`` dev at 1.1.0, ``docs`` an unrelated change."""

    def __init__(self, server: GitServer, tmp_path: Path, name: str) -> None:
        self.server, self.tmp_path, self.name = server, tmp_path, name
        self.url = server.create_repo(name, {".handoff.yaml": CONFIG, "envs/dev/values.yaml": values("1.0.0"),
                                             "envs/prod/values.yaml": values("1.0.0")})
        work = WorkRepo(tmp_path / "work", self.url.replace(
            "http://", f"http://{server.username}:{server.password}@"))
        self.old = work.commit({}, "empty")
        self.bumped = work.commit({"envs/dev/values.yaml": values("1.1.0")}, "dev: web 1.1.0")
        self.docs = work.commit({"README.md": "docs\n"}, "docs")

    def post(self, commit: str, state: DeployState, env: str = "dev") -> None:
        notes = GitNotes(self.url, self.tmp_path / "notes", NOTES_REF,
                         auth=GitAuth(str(self.server.username), str(self.server.password)))
        LocalStatuses(notes).post(commit, f"handoff/{env}", state, f"{state} for the test")

    def promote(self, *extra: str) -> int:
        return main(["promote", "--app", "web", "--from", "dev", "--to", "prod", "--config-repo", self.url,
                     "--token-env", "STATUS_TOKEN", "--git-username", str(self.server.username), *extra])

    def proposed_prod(self) -> str | None:
        done = subprocess.run(["git", "--git-dir", str(self.server.bare_path(self.name)), "show",
                               "handoff/prod/web:envs/prod/values.yaml"], check=False, capture_output=True,
                              text=True)
        return done.stdout if done.returncode == 0 else None


@pytest.fixture
def repo(git_server: GitServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Repo:
    monkeypatch.setenv("STATUS_TOKEN", str(git_server.password))
    return Repo(git_server, tmp_path, "config")


def test_promotes_once_dev_reported_healthy_on_a_commit_carrying_the_image(repo: Repo) -> None:
    repo.post(repo.docs, "healthy")  # the reconciler skipped `bumped` and reported on the next commit
    assert repo.promote() == 0
    assert repo.proposed_prod() == values("1.1.0")


@pytest.mark.parametrize("state", ["degraded", "failed", "applying"])
def test_refuses_while_dev_is_not_healthy(repo: Repo, state: DeployState,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    repo.post(repo.docs, state)
    repo.post(repo.bumped, "healthy")  # older: the newest status of the image's commits decides
    assert repo.promote() == EXIT_UNHEALTHY
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert f"dev is {state} at {repo.docs[:12]}" in err[0] and "--ignore-health" in err[0]
    assert repo.proposed_prod() is None
    assert repo.promote("--ignore-health") == 0
    assert repo.proposed_prod() == values("1.1.0")


def test_refuses_when_dev_reports_but_not_yet_for_the_image(repo: Repo,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    repo.post(repo.old, "healthy")  # dev has a reconciler reporting; 1.1.0 has not been reported on yet
    assert repo.promote() == EXIT_UNHEALTHY
    assert "dev has not reported a handoff/dev status for registry.example/web:1.1.0 yet" in capsys.readouterr().err
    assert repo.proposed_prod() is None


def test_no_status_anywhere_means_no_reporting_reconciler_and_no_gate(repo: Repo) -> None:
    repo.post(repo.docs, "degraded", env="prod")  # another environment's results do not count for dev
    assert repo.promote() == 0
    assert repo.proposed_prod() == values("1.1.0")


def test_a_custom_context_is_read(repo: Repo) -> None:
    repo.post(repo.docs, "healthy")
    assert repo.promote("--context", "deploy/{env}") == 0  # no deploy/dev status anywhere: no gate
    notes = GitNotes(repo.url, repo.tmp_path / "notes2", NOTES_REF,
                     auth=GitAuth(str(repo.server.username), str(repo.server.password)))
    LocalStatuses(notes).post(repo.docs, "deploy/dev", "degraded", "rollout stalled")
    assert repo.promote("--context", "deploy/{env}") == EXIT_UNHEALTHY


def test_a_dry_run_reads_no_status(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.post(repo.docs, "degraded")
    assert repo.promote("--dry-run") == 0  # it calls no forge; the real run is refused
    assert "dry run" in capsys.readouterr().out
    assert repo.promote() == EXIT_UNHEALTHY


def test_a_branch_environment_is_read_on_its_branch(git_server: GitServer, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """staging lives on its own branch: the commits carrying its image, and their statuses, are that branch's."""
    monkeypatch.setenv("STATUS_TOKEN", str(git_server.password))
    config = CONFIG.replace("  dev: {}\n", "  staging: {branch: staging}\n")
    url = git_server.create_repo("branches", {".handoff.yaml": config, "envs/prod/values.yaml": values("1.0.0"),
                                              "envs/staging/values.yaml": values("1.0.0")})
    auth_url = url.replace("http://", f"http://{git_server.username}:{git_server.password}@")
    staging = WorkRepo(tmp_path / "staging", auth_url, branch="staging")
    bumped = staging.commit({"envs/staging/values.yaml": values("1.1.0")}, "staging: web 1.1.0")
    notes = GitNotes(url, tmp_path / "notes", NOTES_REF, auth=GitAuth(str(git_server.username),
                                                                      str(git_server.password)))
    promote = ["promote", "--app", "web", "--from", "staging", "--to", "prod", "--config-repo", url,
               "--token-env", "STATUS_TOKEN", "--git-username", str(git_server.username)]
    LocalStatuses(notes).post(bumped, "handoff/staging", "degraded", "rollout stalled")
    assert main(promote) == EXIT_UNHEALTHY
    LocalStatuses(notes).post(bumped, "handoff/staging", "healthy", "2/2 available")
    assert main(promote) == 0
