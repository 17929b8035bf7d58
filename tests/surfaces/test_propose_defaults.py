"""What a CI job need not type: forge, project and token come from the config repo URL and the CI
variables; ``--dry-run`` shows the change and the exact PR text and asks nothing of the forge; a
failing propose says why on stderr and in its JSON."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from handoff.cli import main
from handoff.errors import UsageError
from handoff.forge import FORGES, ForgeSettings
from handoff.forge.infer import ForgeTarget, infer_target, project_from_path, split_remote, token_from_env
from tests.harness.git_server import GitServer
from tests.propose.contract.github_server import GitHubContractServer
from tests.propose.contract.gitlab_server import GitLabContractServer
from tests.propose.helpers import remote_branches

from .configrepo import FILES

NO_CI: dict[str, str] = {}


@pytest.mark.parametrize(("url", "expected"), [
    ("https://github.com/acme/config.git", ForgeTarget("github", "acme/config")),
    ("git@github.com:acme/config.git", ForgeTarget("github", "acme/config")),
    ("ssh://git@github.com/acme/config", ForgeTarget("github", "acme/config")),
    ("https://gitlab.com/acme/platform/deploy/config.git", ForgeTarget("gitlab", "acme/platform/deploy/config")),
    ("/srv/git/config.git", ForgeTarget("local")),
    ("file:///srv/git/config.git", ForgeTarget("local")),
    ("https://git.example.com/acme/config.git", ForgeTarget("local")),
])
def test_forge_and_project_follow_the_config_repo_url(url: str, expected: ForgeTarget) -> None:
    assert infer_target(url, forge=None, project="", forge_url=None, env=NO_CI) == expected


def test_self_hosted_forges_are_known_by_forge_url_or_the_ci_server() -> None:
    ghe = infer_target("https://ghe.example.com/acme/config.git", forge=None, project="",
                       forge_url="https://ghe.example.com/api/v3", env=NO_CI)
    assert ghe == ForgeTarget("github", "acme/config", "https://ghe.example.com/api/v3")
    # GitLab served under a path: the prefix is not part of the project path
    sub = infer_target("https://example.com/gitlab/grp/sub/config.git", forge=None, project="",
                       forge_url="https://example.com/gitlab/api/v4", env=NO_CI)
    assert sub == ForgeTarget("gitlab", "grp/sub/config", "https://example.com/gitlab/api/v4")
    in_gitlab_ci = infer_target("https://gitlab.example.com/platform/config.git", forge=None, project="",
                                forge_url=None, env={"CI_SERVER_URL": "https://gitlab.example.com"})
    assert in_gitlab_ci == ForgeTarget("gitlab", "platform/config", "https://gitlab.example.com")
    in_ghes = infer_target("https://ghe.example.com/acme/config", forge=None, project="", forge_url=None,
                           env={"GITHUB_SERVER_URL": "https://ghe.example.com",
                                "GITHUB_API_URL": "https://ghe.example.com/api/v3"})
    assert in_ghes == ForgeTarget("github", "acme/config", "https://ghe.example.com/api/v3")


def test_what_the_user_gives_wins_and_an_unknown_forge_url_is_refused() -> None:
    given = infer_target("https://github.com/acme/config.git", forge="local", project="x/y", forge_url=None,
                         env=NO_CI)
    assert given == ForgeTarget("local", "x/y")
    with pytest.raises(Exception, match="give --forge github or --forge gitlab"):
        infer_target("https://git.example.com/a/b", forge=None, project="", forge_url="https://git.example.com",
                     env=NO_CI)


def test_remote_parsing() -> None:
    assert split_remote("C:/work/config") is None  # a Windows path is not scp-like host:path
    assert split_remote("git@host:group/name.git") == ("host", "group/name.git")
    assert project_from_path("/group/name.git/") == "group/name"


def test_tokens_come_from_the_forges_conventional_variables() -> None:
    assert token_from_env("github", {"GH_TOKEN": "b", "GITHUB_TOKEN": "a"}).token == "a"  # type: ignore[union-attr]
    assert token_from_env("github", {"GH_TOKEN": "b", "GITHUB_TOKEN": " "}).token == "b"  # type: ignore[union-attr]
    job = token_from_env("gitlab", {"CI_JOB_TOKEN": "j"})
    assert job is not None and job.variable == "CI_JOB_TOKEN"
    assert token_from_env("gitlab", {"GITLAB_TOKEN": "p", "CI_JOB_TOKEN": "j"}).variable == "GITLAB_TOKEN"  # type: ignore[union-attr]
    assert token_from_env("local", {"GITHUB_TOKEN": "a"}) is None


@pytest.fixture
def github(git_server: GitServer) -> Iterator[GitHubContractServer]:
    assert git_server.password
    # One token for git and the API, as a GitHub job has it.
    server = GitHubContractServer(git_server.password)
    yield server
    server.stop()


@pytest.fixture
def gitlab(git_server: GitServer) -> Iterator[GitLabContractServer]:
    assert git_server.password
    server = GitLabContractServer(git_server.password)
    yield server
    server.stop()


def _argv(url: str, git_server: GitServer, *extra: str) -> list[str]:
    assert git_server.username
    return ["propose", "--image", "registry.example.com/acme/web:1.1.0", "--app", "web", "--env", "dev",
            "--config-repo", url, "--git-username", git_server.username, *extra]


def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("GITHUB_TOKEN", "GH_TOKEN", "GITLAB_TOKEN", "CI_JOB_TOKEN", "CI_SERVER_URL", "GITHUB_SERVER_URL",
                 "GITHUB_API_URL", "GITHUB_OUTPUT"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("output", ["json", "text"])
def test_dry_run_on_github_prints_diff_title_and_body_and_calls_nothing(
        git_server: GitServer, github: GitHubContractServer, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], output: str) -> None:
    _clean_env(monkeypatch)
    url = git_server.create_repo("config", dict(FILES))
    monkeypatch.setenv("GITHUB_TOKEN", git_server.password or "")
    pushes_before = [r for r in git_server.requests if "git-receive-pack" in r]
    argv = _argv(url, git_server, "--forge-url", github.base_url, "--project", "acme/config", "--dry-run",
                 "--output", output)
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert github.requests == []
    assert [r for r in git_server.requests if "git-receive-pack" in r] == pushes_before
    assert remote_branches(git_server, "config") == ["main"]
    if output == "json":
        data = json.loads(out)
        assert data["operation"] == "created" and "no forge call" in data["message"]
        assert "-  tag: 1.0.0" in data["diff"] and "+  tag: 1.1.0" in data["diff"]
        assert "1.1.0" in data["title"] and "values.yaml" in data["body"]
    else:
        assert "+  tag: 1.1.0" in out and "--- title\n" in out and "--- body\n" in out


def test_dry_run_on_gitlab_calls_nothing(git_server: GitServer, gitlab: GitLabContractServer,
                                         monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    _clean_env(monkeypatch)
    url = git_server.create_repo("config", dict(FILES))
    monkeypatch.setenv("GITLAB_TOKEN", git_server.password or "")
    argv = _argv(url, git_server, "--forge", "gitlab", "--forge-url", gitlab.url, "--dry-run", "--output", "json")
    assert main(argv) == 0
    data = json.loads(capsys.readouterr().out)
    assert gitlab.requests == []
    assert data["title"] and "+  tag: 1.1.0" in data["diff"]


def test_github_token_alone_is_enough(git_server: GitServer, github: GitHubContractServer,
                                      monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """No --forge, no --token-env: the API URL says GitHub (Enterprise), GITHUB_TOKEN is the token for the
    API and for git, and it appears in no argv, output or request line."""
    _clean_env(monkeypatch)
    url = git_server.create_repo("config", dict(FILES))
    token = git_server.password or ""
    monkeypatch.setenv("GITHUB_TOKEN", token)
    argv = _argv(url, git_server, "--forge-url", github.base_url, "--project", "acme/config", "--output", "json")
    assert token not in " ".join(argv)
    assert main(argv) == 0
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert data["operation"] == "created" and data["pr_number"] == 1
    assert github.pulls[1]["head"]["ref"] == "handoff/dev/web" and github.violations == []
    for text in (captured.out, captured.err, *git_server.requests, *(r["path"] for r in github.requests)):
        assert token not in text


def test_gitlab_token_alone_is_enough(git_server: GitServer, gitlab: GitLabContractServer,
                                      monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    _clean_env(monkeypatch)
    url = git_server.create_repo("config", dict(FILES))
    monkeypatch.setenv("GITLAB_TOKEN", git_server.password or "")
    argv = _argv(url, git_server, "--forge", "gitlab", "--forge-url", gitlab.url, "--project", "acme/config",
                 "--output", "json")
    assert main(argv) == 0, capsys.readouterr().err
    assert json.loads(capsys.readouterr().out)["operation"] == "created"
    assert len(gitlab.mrs) == 1 and gitlab.violations == []


def test_a_usage_error_is_in_the_json_too(git_server: GitServer, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    _clean_env(monkeypatch)
    url = git_server.create_repo("config", dict(FILES))
    assert main(_argv(url, git_server, "--token-file", "/nonexistent", "--output", "json")) == 2
    captured = capsys.readouterr()
    assert json.loads(captured.out)["error"].startswith("/nonexistent: cannot read token file")
    assert "handoff: error: /nonexistent: cannot read token file" in captured.err


def test_missing_token_names_the_variables() -> None:
    with pytest.raises(UsageError, match="GITHUB_TOKEN/GH_TOKEN"):
        FORGES["github"](ForgeSettings(project="acme/config"), None, "")  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="GITLAB_TOKEN/CI_JOB_TOKEN"):
        FORGES["gitlab"](ForgeSettings(project="acme/config"), None, "")  # type: ignore[arg-type]


def _broken_config_repo(git_server: GitServer) -> str:
    files: dict[str, Any] = dict(FILES)
    files[".handoff.yaml"] = FILES[".handoff.yaml"].replace("path: chart", "path: manifests-missing")
    return git_server.create_repo("broken", files)


def test_a_validation_that_cannot_run_says_why(git_server: GitServer, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """The cause (here a render path that does not exist) is on stderr and in the JSON's ``error`` and
    ``report`` (as a finding), not only in a PR body that is never created."""
    _clean_env(monkeypatch)
    url = _broken_config_repo(git_server)
    monkeypatch.setenv("CFG", git_server.password or "")
    assert main(_argv(url, git_server, "--token-env", "CFG", "--output", "json")) == 1
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert (data["operation"], data["validation"]) == ("none", "failed")
    assert "manifests-missing" in data["error"] and data["error"].startswith("validation could not run")
    findings = data["report"]["findings"]
    assert [f["rule"] for f in findings] == ["could-not-validate"] and "manifests-missing" in findings[0]["message"]
    assert "handoff: error: validation could not run" in captured.err and "manifests-missing" in captured.err
    subprocess.run(["git", "--git-dir", str(git_server.bare_path("broken")), "rev-parse", "main"], check=True,
                   capture_output=True)
    assert remote_branches(git_server, "broken") == ["main"]
