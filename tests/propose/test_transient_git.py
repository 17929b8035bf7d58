"""A forge's git front end answering 5xx for a moment must not fail a CI job: network git commands are
retried a few times; errors that will not go away (4xx) are not."""

from __future__ import annotations

import pytest

from handoff.errors import GitError
from tests.harness.git_server import GitServer
from tests.propose.helpers import propose_on, rev

MARKERS = {"web.yaml": "image: registry.example/web:1.0.0 # handoff:image web\n"}


def test_two_server_errors_then_success(git_server: GitServer) -> None:
    url = git_server.create_repo("flaky", MARKERS)
    git_server.fail_next(2, status=502)
    result = propose_on(git_server, url, "registry.example/web:1.1.0")
    assert result.operation == "created"
    assert rev(git_server, "flaky", "handoff/dev/web") == result.head_sha


def test_client_errors_are_not_retried(git_server: GitServer) -> None:
    """One 404 fails the job at once: a retry would have succeeded, so success here would mean it retried."""
    url = git_server.create_repo("gone", MARKERS)
    git_server.fail_next(1, status=404)
    with pytest.raises(GitError, match=r"not found|404"):
        propose_on(git_server, url, "registry.example/web:1.1.0")
