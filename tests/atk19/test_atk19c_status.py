"""atk19c: ``handoff status`` output per state, over the real git server as the local-forge config repo.
Each test FAILS today; its assertion says what should hold."""

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


def test_a_failed_revision_is_not_shown_as_the_applied_one(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.post(repo.old, "healthy")  # dev runs the old revision
    repo.post(repo.bumped, "failed")  # the reconciler posts failed on a revision it could NOT apply
    assert repo.cli("status", "--output", "json") == 0
    rows = {r["env"]: r for r in json.loads(capsys.readouterr().out)["rows"]}
    dev = rows["dev"]
    assert dev["applied_revision"] != repo.bumped, (
        "`failed` is what the reconciler posts on the attempted revision when it was not applied "
        "(reconciler/report_status.py deploy_state: attempted != applied); `handoff status` must not "
        f"show it as the revision applied to dev (dev still runs {repo.old[:12]}, healthy); today the "
        f"row says applied {dev['applied_revision'][:12]}, health {dev['health']} "
        "(workflows/status.py: the newest commit carrying any status)")
