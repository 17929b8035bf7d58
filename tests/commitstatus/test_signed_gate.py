"""The promote gate with a status key (``--status-key-file``): a signing reconciler is declared, so no
verified status for --from is "not reported" (exit 4), never "no reconciler: passed"; --ignore-health
still overrides. Over the real git server as the local-forge config repo."""

from __future__ import annotations

from pathlib import Path

import pytest

from handoff.cli import main
from handoff.workflows.promote import EXIT_UNHEALTHY
from tests.atk19.test_atk19_closed_loop import Repo
from tests.harness.git_server import GitServer

KEY = b"0123456789abcdef0123456789abcdef"


@pytest.fixture
def repo(git_server: GitServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Repo:
    monkeypatch.setenv("STATUS_TOKEN", str(git_server.password))
    return Repo(git_server, tmp_path)


def _promote(repo: Repo, *extra: str) -> int:
    key = repo.tmp_path / "status.key"
    key.write_bytes(KEY + b"\n")
    return main(["promote", "--app", "web", "--from", "dev", "--to", "prod", "--config-repo", repo.url,
                 "--token-env", "STATUS_TOKEN", "--git-username", str(repo.server.username),
                 "--status-key-file", str(key), *extra])


def test_with_a_key_no_status_at_all_refuses_saying_none_verified(repo: Repo,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert _promote(repo) == EXIT_UNHEALTHY
    err = capsys.readouterr().err
    assert "no verified handoff/dev status" in err and "--ignore-health" in err


def test_with_a_key_an_unsigned_healthy_refuses_and_ignore_health_overrides(
        repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.post(repo.bumped, "healthy")  # unsigned: what any config-repo writer can push
    assert _promote(repo) == EXIT_UNHEALTHY
    assert "no verified" in capsys.readouterr().err
    assert _promote(repo, "--ignore-health") == 0


def test_with_a_key_a_signed_healthy_passes(repo: Repo) -> None:
    repo.post(repo.bumped, "healthy", key=KEY)
    assert _promote(repo) == 0
