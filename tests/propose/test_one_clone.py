"""promote checks the source environment and proposes to the target in one clone of the config repo
(it used to clone, throw the clone away, and let propose clone again). Counted from git's own trace."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from handoff.git.repo import GitAuth
from handoff.workflows.promote import promote
from handoff.workflows.propose import ProposeOptions, propose
from tests.harness.git_server import GitServer

from .test_promote import files


def git_commands(trace: Path, name: str) -> int:
    events = [json.loads(line) for line in trace.read_text().splitlines() if line.strip()]
    return sum(1 for e in events if e.get("event") == "start" and e.get("argv", [None, None])[1:2] == [name])


def options(server: GitServer, url: str, image: str = "") -> ProposeOptions:
    assert server.username and server.password
    return ProposeOptions(image=image, app="web", env="prod", config_repo=url,
                          git_auth=GitAuth(server.username, server.password))


def test_promote_makes_one_clone(git_server: GitServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = git_server.create_repo("oneclone", files(False, "registry.example/web:1.3.0"))
    trace = tmp_path / "trace.json"
    monkeypatch.setenv("GIT_TRACE2_EVENT", str(trace))
    result = promote(options(git_server, url), source_env="staging")
    assert result.operation == "created"
    assert git_commands(trace, "init") == 1


def test_propose_makes_one_clone(git_server: GitServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = git_server.create_repo("oneclone2", files(False, "registry.example/web:1.3.0"))
    trace = tmp_path / "trace.json"
    monkeypatch.setenv("GIT_TRACE2_EVENT", str(trace))
    assert propose(options(git_server, url, "registry.example/web:1.4.0")).operation == "created"
    assert git_commands(trace, "init") == 1
