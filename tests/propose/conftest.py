"""Real components for the propose tests: the harness's smart-HTTP git server with basic auth."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from handoff.redact import forget_all
from tests.harness.git_server import GitServer
from tests.harness.tools import require_tool


@pytest.fixture
def git_server(tmp_path: Path) -> Iterator[GitServer]:
    server = GitServer(require_tool("git"), tmp_path / "git-server")
    server.start()
    yield server
    server.stop()
    forget_all()
