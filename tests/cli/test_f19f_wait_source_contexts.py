"""f19f (atk19d 9): a context template with ``{source}`` reads every source's context of the env, the
worst state winning; an unknown placeholder is a usage error (over the real git server, local forge)."""

from __future__ import annotations

from pathlib import Path

import pytest

from handoff.commitstatus import CommitStatus
from handoff.errors import UsageError
from handoff.workflows.status_context import StatusContext
from tests.cli.test_wait_status import post, repo, run
from tests.harness.git_server import GitServer

__all__ = ["repo"]  # the fixture, used by name


def test_wait_with_a_source_placeholder_reads_the_worst_source(
        git_server: GitServer, repo: tuple[str, list[str]], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    url, (_, c1, _) = repo
    post(git_server, url, tmp_path / "n", c1, "handoff/dev/a", "healthy")
    post(git_server, url, tmp_path / "n", c1, "handoff/dev/b", "degraded")
    post(git_server, url, tmp_path / "n", c1, "handoff/prod/c", "failed")  # another env: not read
    code = run(git_server, url, "wait", "--env", "dev", "--commit", c1, "--timeout", "30s",
               "--context", "handoff/{env}/{source}")
    assert code == 1
    assert "dev is degraded" in (out := capsys.readouterr().out) and "handoff/dev/b" in out


def test_wait_with_a_source_placeholder_is_healthy_once_every_source_is(
        git_server: GitServer, repo: tuple[str, list[str]], tmp_path: Path) -> None:
    url, (_, c1, _) = repo
    post(git_server, url, tmp_path / "n", c1, "handoff/dev/a", "healthy")
    post(git_server, url, tmp_path / "n", c1, "handoff/dev/b", "healthy")
    assert run(git_server, url, "wait", "--env", "dev", "--commit", c1, "--timeout", "30s",
               "--context", "handoff/{env}/{source}") == 0


def test_an_unknown_placeholder_in_context_is_a_usage_error(
        git_server: GitServer, repo: tuple[str, list[str]], capsys: pytest.CaptureFixture[str]) -> None:
    url, (_, c1, _) = repo
    code = run(git_server, url, "wait", "--env", "dev", "--commit", c1, "--context", "handoff/{cluster}")
    assert code == 2 and "{cluster}" in capsys.readouterr().err


def _status(context: str, state: str) -> CommitStatus:
    return CommitStatus(context, state, "x")  # type: ignore[arg-type]


def test_the_context_picks_the_worst_match_and_sees_statuses_beside_it() -> None:
    statuses = {c: _status(c, s) for c, s in [("handoff/dev/a", "healthy"), ("handoff/dev/b", "applying"),
                                               ("handoff/prod/a", "failed")]}
    picked = StatusContext.of("handoff/{env}/{source}", "dev").pick(statuses)
    assert picked is not None and picked.state == "applying" and picked.context == "handoff/dev/b"
    plain = StatusContext.of("handoff/{env}", "dev")
    assert plain.pick(statuses) is None
    assert plain.others(statuses) == ["handoff/dev/a", "handoff/dev/b"]
    with pytest.raises(UsageError, match="unknown placeholder"):
        StatusContext.of("handoff/{envv}", "dev")


def test_status_with_a_source_placeholder_shows_the_worst_source(
        git_server: GitServer, repo: tuple[str, list[str]], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    url, (_, c1, _) = repo
    post(git_server, url, tmp_path / "n", c1, "handoff/dev/a", "healthy")
    post(git_server, url, tmp_path / "n", c1, "handoff/dev/b", "degraded")
    assert run(git_server, url, "status", "--context", "handoff/{env}/{source}") == 0
    dev = next(line for line in capsys.readouterr().out.splitlines() if " dev " in f" {line} ")
    assert "degraded" in dev, dev
