"""Contract tests of ``--sign api``: the commit is created by GitHub through the Git data API (blobs, tree,
commit, ref), every request validated against GitHub's OpenAPI description (``@octokit/openapi``); the
config repo itself is the harness's real git server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from handoff.errors import GitError, UsageError
from handoff.forge import ForgeSettings
from handoff.retry import RetryPolicy
from handoff.workflows.propose import ProposeResult
from tests.harness.git_server import GitServer
from tests.propose.contract.github_server import GitHubContractServer
from tests.propose.helpers import propose_on, remote_branches, rev

TOKEN = "ghs_signApiContractToken0123456789abcd"
FILES = {"apps.yaml": "web: registry.example/web:1.0.0 # handoff:image web\n", "other.yaml": "keep: me\n"}


@pytest.fixture
def github() -> Iterator[GitHubContractServer]:
    srv = GitHubContractServer(TOKEN)
    yield srv
    srv.stop()


def run(git_server: GitServer, github: GitHubContractServer, url: str, image: str, **kw: object) -> ProposeResult:
    settings = ForgeSettings(project="acme/config", token=TOKEN, base_url=github.base_url,
                             retry=RetryPolicy(attempts=3, sleep=lambda s: None), throttle=False)
    return propose_on(git_server, url, image, forge="github", forge_settings=settings, sign="api",
                      max_attempts=2, **kw)


def test_pr_mode_commit_is_created_by_github_on_the_base(git_server: GitServer, github: GitHubContractServer) -> None:
    """Contract test: the proposal commit is GitHub's own (verified): one blob for the edited file, a tree on
    the base commit's tree, a commit whose only parent is the base, a new branch ref; the PR names that
    branch; nothing is pushed with git."""
    url = git_server.create_repo("cfg", FILES)
    base = rev(git_server, "cfg", "main")
    result = run(git_server, github, url, "registry.example/web:1.1.0")
    assert result.operation == "created" and result.pr_number == 1
    commit = github.commits[result.head_sha]
    assert commit["parents"] == [base] and set(commit) == {"message", "tree", "parents"}
    assert commit["message"].startswith("handoff: web registry.example/web:1.1.0 in dev\n")
    tree = github.trees[commit["tree"]]
    assert tree["base_tree"] == rev(git_server, "cfg", "main^{tree}")
    (entry,) = tree["tree"]
    assert (entry["path"], entry["mode"], entry["type"]) == ("apps.yaml", "100644", "blob")
    assert github.blobs[entry["sha"]] == b"web: registry.example/web:1.1.0 # handoff:image web\n"
    assert github.refs == {"refs/heads/handoff/dev/web": result.head_sha}
    assert github.pulls[1]["head"]["ref"] == "handoff/dev/web"
    assert remote_branches(git_server, "cfg") == ["main"]
    assert not [r for r in git_server.requests if "git-receive-pack" in r]
    assert github.violations == [], "\n".join(github.violations)


def test_a_branch_that_moved_is_never_overwritten(git_server: GitServer, github: GitHubContractServer) -> None:
    """Contract test: the rolling branch exists on GitHub at a commit we did not see; the ref is left alone
    and the run gives up after its bounded attempts instead of forcing over it."""
    url = git_server.create_repo("cfg", FILES)
    github.refs["refs/heads/handoff/dev/web"] = "f" * 40
    with pytest.raises(GitError, match="still rejected after 2 attempts"):
        run(git_server, github, url, "registry.example/web:1.1.0")
    assert github.refs == {"refs/heads/handoff/dev/web": "f" * 40}
    assert github.pulls == {}
    assert github.violations == [], "\n".join(github.violations)


def test_direct_mode_fast_forwards_the_environment_branch(git_server: GitServer,
                                                          github: GitHubContractServer) -> None:
    """Contract test: direct mode moves the env branch with force=false (fast-forward only); if it moved
    meanwhile GitHub's 422 means retry, never a forced update."""
    url = git_server.create_repo("cfg", FILES)
    base = rev(git_server, "cfg", "main")
    github.refs["refs/heads/main"] = base
    result = run(git_server, github, url, "registry.example/web:1.1.0", mode="direct")
    assert result.operation == "updated" and github.refs["refs/heads/main"] == result.head_sha
    assert github.commits[result.head_sha]["parents"] == [base]
    (update,) = [r for r in github.requests if r["method"] == "PATCH"]
    assert '"force": false' in update["body"]

    github.refs["refs/heads/main"] = "e" * 40  # somebody else moved it on GitHub
    with pytest.raises(GitError, match="still rejected"):
        run(git_server, github, url, "registry.example/web:1.2.0", mode="direct")
    assert github.refs["refs/heads/main"] == "e" * 40
    assert github.violations == [], "\n".join(github.violations)


def test_sign_api_needs_a_forge_that_signs(git_server: GitServer) -> None:
    """--sign api with the local forge is a usage error (nothing pushed), not a silently unsigned commit."""
    url = git_server.create_repo("cfg", FILES)
    with pytest.raises(UsageError, match="--sign api needs"):
        propose_on(git_server, url, "registry.example/web:1.1.0", sign="api")
    assert remote_branches(git_server, "cfg") == ["main"]
