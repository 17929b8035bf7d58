"""``handoff status`` when the reconciler failed to apply a revision: ``failed`` is posted on a revision
it could not apply, so the row's applied revision stays the newest applied one and the failure is shown
beside it. Over the real git server as the local-forge config repo."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.atk19.test_atk19_closed_loop import Repo
from tests.harness.git_server import GitServer


@pytest.fixture
def repo(git_server: GitServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Repo:
    monkeypatch.setenv("STATUS_TOKEN", str(git_server.password))
    return Repo(git_server, tmp_path)


def test_a_newer_failure_is_shown_beside_the_applied_revision(repo: Repo,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    repo.post(repo.old, "healthy")
    repo.post(repo.bumped, "failed")
    assert repo.cli("status", "--output", "json") == 0
    dev = {r["env"]: r for r in json.loads(capsys.readouterr().out)["rows"]}["dev"]
    assert (dev["applied_revision"], dev["health"], dev["failed_revision"]) == (repo.old, "healthy", repo.bumped)
    assert dev["failed_description"] == "failed: failed for the test"
    assert repo.cli("status") == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("web") and " dev " in line)
    assert repo.old[:12] in row and f"healthy; {repo.bumped[:12]} failed (not applied)" in row


def test_only_failures_show_no_applied_revision(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.post(repo.bumped, "failed")
    assert repo.cli("status", "--output", "json") == 0
    dev = {r["env"]: r for r in json.loads(capsys.readouterr().out)["rows"]}["dev"]
    assert (dev["applied_revision"], dev["health"], dev["failed_revision"]) == ("", "failed", repo.bumped)
    assert repo.cli("status", "--output", "markdown") == 0
    assert f"| - | failed at {repo.bumped[:12]} (not applied) |" in capsys.readouterr().out


def test_a_degraded_revision_is_applied(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.post(repo.old, "healthy")
    repo.post(repo.bumped, "degraded")  # applied, not healthy
    assert repo.cli("status", "--output", "json") == 0
    dev = {r["env"]: r for r in json.loads(capsys.readouterr().out)["rows"]}["dev"]
    assert (dev["applied_revision"], dev["health"]) == (repo.bumped, "degraded")
    assert "failed_revision" not in dev
