"""The PR body shows what the environment renders differently: reviewers see the object-level change
(e.g. the Deployment's container image), not only the edited values file."""

from __future__ import annotations

from tests.harness.git_server import GitServer
from tests.propose.helpers import propose_on, show
from tests.propose.test_on_invalid import DEPLOYMENT, config_repo


def _rendered_section(body: str) -> str:
    return body.split("### Rendered change (dev)", 1)[1].split("### Validation", 1)[0]


def test_pr_body_carries_the_rendered_manifest_diff(git_server: GitServer) -> None:
    url = config_repo(git_server, "rendered", DEPLOYMENT)
    result = propose_on(git_server, url, "registry.example/web:1.1.0")
    assert result.operation == "created"
    section = _rendered_section(show(git_server, "rendered", "handoff/dev/web", ".handoff/proposals/dev-web.md"))
    assert "```diff" in section
    removed = [line for line in section.splitlines() if line.startswith("-") and not line.startswith("---")]
    added = [line for line in section.splitlines() if line.startswith("+") and not line.startswith("+++")]
    assert [line[1:].strip(" -") for line in removed] == ["image: registry.example/web:1.0.0"]
    assert [line[1:].strip(" -") for line in added] == ["image: registry.example/web:1.1.0"]


def test_without_a_render_config_the_body_says_so(git_server: GitServer) -> None:
    """A marker-only repo has no render for the env: the section explains instead of showing an empty diff."""
    url = git_server.create_repo("markers", {"web.yaml": "image: registry.example/web:1.0.0 # handoff:image web\n"})
    propose_on(git_server, url, "registry.example/web:1.1.0")
    section = _rendered_section(show(git_server, "markers", "handoff/dev/web", ".handoff/proposals/dev-web.md"))
    assert "No render is configured for `dev`" in section
