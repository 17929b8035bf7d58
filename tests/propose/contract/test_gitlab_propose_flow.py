"""Contract tests of the whole propose flow on GitLab: the real git server for the branch, the GitLab contract
server (shapes from GitLab's REST docs) for the merge request."""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Iterator

import pytest

from handoff.ci_env import CiContext
from handoff.forge import ForgeSettings
from handoff.retry import RetryPolicy
from handoff.workflows.propose import ProposeResult
from tests.harness.git_server import GitServer
from tests.propose.contract.gitlab_server import GitLabContractServer
from tests.propose.helpers import git, propose_on, rev

TOKEN = "glpat-flowContractToken0123456789"
MARKERS = "web: registry.example/web:1.0.0 # handoff:image web\n"


@pytest.fixture
def gitlab_server(git_server: GitServer) -> Iterator[GitLabContractServer]:
    srv = GitLabContractServer(TOKEN)

    def head_of(branch: str) -> str | None:
        try:
            return rev(git_server, "cfg", f"refs/heads/{branch}")
        except subprocess.CalledProcessError:
            return None

    srv.head_of = head_of
    yield srv
    srv.stop()


def run(git_server: GitServer, gitlab_server: GitLabContractServer, url: str, image: str,
        **kw: object) -> ProposeResult:
    settings = ForgeSettings(project="acme/config", token=TOKEN, base_url=gitlab_server.url,
                             retry=RetryPolicy(attempts=3, sleep=lambda s: None), pipeline_wait=30)
    return propose_on(git_server, url, image, env="prod", forge="gitlab", forge_settings=settings, **kw)


def test_create_then_description_only_rerun_updates_the_mr_without_a_commit(
        git_server: GitServer, gitlab_server: GitLabContractServer) -> None:
    """Contract test: the first run creates the MR; a rerun with the same image but a new pipeline URL
    updates only the MR description (``updated``, same head commit, no push); the same rerun again is
    ``none`` and sends no update."""
    url = git_server.create_repo("cfg", {"apps.yaml": MARKERS})
    first = run(git_server, gitlab_server, url, "registry.example/web:1.1.0", ci=CiContext("gitlab", pipeline_url="https://ci/p/1"))
    assert (first.operation, first.pr_number, first.pr_url) == (
        "created", 1, "https://gitlab.example/acme/config/-/merge_requests/1")
    pushes = len([r for r in git_server.requests if "git-receive-pack" in r and "POST" in r])
    assert pushes == 1
    second = run(git_server, gitlab_server, url, "registry.example/web:1.1.0", ci=CiContext("gitlab", pipeline_url="https://ci/p/2"))
    assert (second.operation, second.head_sha) == ("updated", first.head_sha)
    assert rev(git_server, "cfg", "handoff/prod/web") == first.head_sha
    assert len([r for r in git_server.requests if "git-receive-pack" in r and "POST" in r]) == pushes
    assert "https://ci/p/2" in gitlab_server.mrs[1]["description"]
    updates = len(gitlab_server.calls("update_merge_request"))
    third = run(git_server, gitlab_server, url, "registry.example/web:1.1.0", ci=CiContext("gitlab", pipeline_url="https://ci/p/2"))
    assert third.operation == "none" and len(gitlab_server.calls("update_merge_request")) == updates
    assert gitlab_server.violations == [], "\n".join(gitlab_server.violations)


def test_409_from_a_racing_job_becomes_an_update(git_server: GitServer,
                                                 gitlab_server: GitLabContractServer) -> None:
    """Contract test: another job opened the MR between our lookup and our create; GitLab answers 409 and
    the flow finds that MR and updates it in place (one MR, operation ``updated``)."""
    url = git_server.create_repo("cfg", {"apps.yaml": MARKERS})
    run(git_server, gitlab_server, url, "registry.example/web:1.1.0")
    gitlab_server.hide_from_list = 1
    result = run(git_server, gitlab_server, url, "registry.example/web:1.2.0")
    assert (result.operation, result.pr_number) == ("updated", 1)
    assert [c["endpoint"] for c in gitlab_server.requests[-3:]] == [
        "create_merge_request", "list_merge_requests", "update_merge_request"]
    assert len(gitlab_server.mrs) == 1 and "web:1.2.0" in gitlab_server.mrs[1]["title"]
    assert gitlab_server.violations == [], "\n".join(gitlab_server.violations)


def test_close_when_the_base_already_has_the_image(git_server: GitServer,
                                                   gitlab_server: GitLabContractServer) -> None:
    """Contract test: when the base already runs the image the open MR is commented on and closed."""
    url = git_server.create_repo("cfg", {"apps.yaml": MARKERS})
    run(git_server, gitlab_server, url, "registry.example/web:1.1.0")
    closed = run(git_server, gitlab_server, url, "registry.example/web:1.0.0", allow_downgrade=True)
    assert closed.operation == "closed" and gitlab_server.mrs[1]["state"] == "closed"
    assert "already has `registry.example/web:1.0.0`" in gitlab_server.notes[0][1]
    assert gitlab_server.violations == [], "\n".join(gitlab_server.violations)


def test_auto_merge_waits_for_the_pushed_heads_pipeline(git_server: GitServer,
                                                        gitlab_server: GitLabContractServer) -> None:
    """Contract test: with --auto-merge, /merge is called with the pushed head's sha, after its pipeline exists."""
    url = git_server.create_repo("cfg", {"apps.yaml": MARKERS})
    gitlab_server.pipeline_after = 2
    result = run(git_server, gitlab_server, url, "registry.example/web:1.1.0", auto_merge=True)
    assert gitlab_server.merges == [{"iid": 1, "pipeline_existed": True, "body": {
        "merge_when_pipeline_succeeds": True, "auto_merge": True, "sha": result.head_sha}}]
    assert gitlab_server.violations == [], "\n".join(gitlab_server.violations)


def test_tokens_appear_nowhere(git_server: GitServer, gitlab_server: GitLabContractServer,
                               caplog: pytest.LogCaptureFixture) -> None:
    """Neither the GitLab token nor the git password is in any log, result, MR text, note, URL, commit or
    git server request."""
    caplog.set_level(logging.DEBUG)
    url = git_server.create_repo("cfg", {"apps.yaml": MARKERS})
    results = [run(git_server, gitlab_server, url, f"registry.example/web:{v}", labels=("deploy",),
                   reviewers=("alice",)) for v in ("1.1.0", "1.2.0")]
    results.append(run(git_server, gitlab_server, url, "registry.example/web:1.0.0", allow_downgrade=True))
    assert [r.operation for r in results] == ["created", "updated", "closed"]
    texts = [caplog.text, *map(repr, results), *git_server.requests,
             git("--git-dir", str(git_server.bare_path("cfg")), "log", "--all", "-p"),
             *(str(mr) for mr in gitlab_server.mrs.values()), *(n for _, n in gitlab_server.notes),
             *(r["path"] + r["body"] for r in gitlab_server.requests)]
    assert git_server.password
    for text in texts:
        assert TOKEN not in text and git_server.password not in text
