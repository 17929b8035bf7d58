"""A careless operator's propose runs: ``--dry-run`` in every forge and mode asks nothing of the forge
and pushes nothing; a token from the environment reaches no git child's argv; a GitLab job token, which
cannot open merge requests, is refused with the cause instead of a 401 from the API."""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from handoff.cli import main
from tests.harness.git_server import GitServer
from tests.propose.contract.github_server import GitHubContractServer
from tests.propose.contract.gitlab_server import GitLabContractServer
from tests.propose.helpers import remote_branches

from .configrepo import FILES

TOKEN_VARIABLES = ("GITHUB_TOKEN", "GH_TOKEN", "GITLAB_TOKEN", "CI_JOB_TOKEN", "CI_SERVER_URL",
                   "GITHUB_SERVER_URL", "GITHUB_API_URL", "GITHUB_OUTPUT")


@pytest.fixture(autouse=True)
def _no_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in TOKEN_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def github(git_server: GitServer) -> Iterator[GitHubContractServer]:
    assert git_server.password
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
            "--config-repo", url, "--git-username", git_server.username, "--output", "json", *extra]


def _pushes(git_server: GitServer) -> list[str]:
    return [r for r in git_server.requests if "git-receive-pack" in r]


@pytest.mark.parametrize("forge", ["github", "gitlab"])
@pytest.mark.parametrize("mode", [["--mode", "pr"], ["--mode", "direct"], ["--mode", "pr", "--sign", "api"],
                                  ["--mode", "direct", "--sign", "api"]], ids=["pr", "direct", "pr-api", "direct-api"])
def test_dry_run_makes_no_forge_call_and_no_push_in_any_mode(
        git_server: GitServer, github: GitHubContractServer, gitlab: GitLabContractServer,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], forge: str, mode: list[str]) -> None:
    url = git_server.create_repo("config", dict(FILES))
    monkeypatch.setenv("GITHUB_TOKEN" if forge == "github" else "GITLAB_TOKEN", git_server.password or "")
    forge_url = github.base_url if forge == "github" else gitlab.url
    before = _pushes(git_server)
    code = main(_argv(url, git_server, "--forge", forge, "--forge-url", forge_url, "--project", "acme/config",
                      "--dry-run", *mode))
    captured = capsys.readouterr()
    assert github.requests == [] and gitlab.requests == []
    assert _pushes(git_server) == before and remote_branches(git_server, "config") == ["main"]
    if forge == "gitlab" and "api" in mode:  # only GitHub creates signed commits: refused, still no call
        assert code == 2 and "--sign api" in captured.err
        return
    assert code == 0, captured.err
    data = json.loads(captured.out)
    assert data["message"].startswith("dry run") and "+  tag: 1.1.0" in data["diff"]


def test_dry_run_of_a_promote_makes_no_forge_call(git_server: GitServer, github: GitHubContractServer,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    files = dict(FILES)
    files[".handoff.yaml"] = FILES[".handoff.yaml"].replace(
        "environments:\n", "environments:\n  prod: {render: {type: helm, path: chart, values: [prod.yaml], "
                           "release: web}}\n").replace("path: values.yaml,", "path: \"{env}.yaml\",")
    files["dev.yaml"] = FILES["values.yaml"].replace("1.0.0", "1.1.0")
    files["prod.yaml"] = FILES["values.yaml"]
    files[".handoff.yaml"] = files[".handoff.yaml"].replace("values: [values.yaml]", "values: [dev.yaml]")
    del files["values.yaml"]
    url = git_server.create_repo("config", files)
    monkeypatch.setenv("GITHUB_TOKEN", git_server.password or "")
    assert git_server.username
    code = main(["promote", "--app", "web", "--from", "dev", "--to", "prod", "--config-repo", url,
                 "--git-username", git_server.username, "--forge", "github", "--forge-url", github.base_url,
                 "--project", "acme/config", "--dry-run", "--output", "json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert github.requests == [] and remote_branches(git_server, "config") == ["main"]
    assert "+  tag: 1.1.0" in json.loads(captured.out)["diff"]


def _git_shim(tmp_path: Path) -> tuple[Path, Path]:
    """A `git` first on PATH that records its argv (NUL-separated, one line per run), then runs the real git."""
    real = subprocess.run(["sh", "-c", "command -v git"], capture_output=True, text=True, check=True).stdout.strip()
    bin_dir, log = tmp_path / "shim", tmp_path / "git-argv.log"
    bin_dir.mkdir()
    shim = bin_dir / "git"
    shim.write_text(f"#!/bin/sh\nprintf '%s\\0' \"$@\" >> {log}\necho >> {log}\nexec {real} \"$@\"\n")
    shim.chmod(shim.stat().st_mode | stat.S_IXUSR)
    return bin_dir, log


def test_an_environment_token_reaches_no_git_argv_and_no_output(
        git_server: GitServer, github: GitHubContractServer, tmp_path: Path) -> None:
    """Run as a CI job does (a process, only GITHUB_TOKEN set): every git child's argv is recorded; the
    token (and its Basic header) appears in none, nor in stdout, stderr or GITHUB_OUTPUT."""
    url = git_server.create_repo("config", dict(FILES))
    token = git_server.password or ""
    bin_dir, log = _git_shim(tmp_path)
    outputs = tmp_path / "github-output"
    env = {k: v for k, v in os.environ.items() if k not in TOKEN_VARIABLES and k != "HANDOFF_TOOLS_DIR"}
    tools = Path(__file__).resolve().parents[2] / ".tools" / "bin"
    env.update(GITHUB_TOKEN=token, GITHUB_OUTPUT=str(outputs),
               PATH=f"{bin_dir}{os.pathsep}{tools}{os.pathsep}{env.get('PATH', '')}")
    # handoff prefers the project's .tools/bin git; point it at the shim instead
    env["HANDOFF_TOOLS_DIR"] = str(bin_dir)
    done = subprocess.run([sys.executable, "-m", "handoff", *_argv(url, git_server, "--forge-url", github.base_url,
                                                                    "--project", "acme/config", "-vv")],
                          capture_output=True, text=True, env=env, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert "DEBUG handoff" in done.stderr  # -vv after the command works as it does before it
    runs = log.read_bytes().split(b"\n")
    assert len([r for r in runs if r]) >= 3  # ls-remote/fetch, commit, push at least
    basic = base64.b64encode(f"{git_server.username}:{token}".encode()).decode()
    for secret in (token, basic):
        assert secret.encode() not in log.read_bytes()
        for text in (done.stdout, done.stderr, outputs.read_text()):
            assert secret not in text


def test_a_gitlab_job_token_is_refused_for_merge_requests_with_the_cause(
        git_server: GitServer, gitlab: GitLabContractServer, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """CI_JOB_TOKEN authenticates git as gitlab-ci-token but cannot call the merge-request API: a PR-mode
    propose with only it says so and what to set, before any request."""
    url = git_server.create_repo("config", dict(FILES))
    monkeypatch.setenv("CI_JOB_TOKEN", git_server.password or "")
    code = main(_argv(url, git_server, "--forge", "gitlab", "--forge-url", gitlab.url, "--project", "acme/config"))
    captured = capsys.readouterr()
    assert code == 2
    assert "CI_JOB_TOKEN cannot open merge requests" in captured.err and "GITLAB_TOKEN" in captured.err
    assert "CI_JOB_TOKEN cannot open merge requests" in json.loads(captured.out)["error"]
    assert gitlab.requests == [] and remote_branches(git_server, "config") == ["main"]


def test_a_gitlab_job_token_pushes_in_direct_mode(git_server: GitServer, gitlab: GitLabContractServer,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    url = git_server.create_repo("config", dict(FILES))
    monkeypatch.setenv("CI_JOB_TOKEN", git_server.password or "")
    code = main(_argv(url, git_server, "--forge", "gitlab", "--forge-url", gitlab.url, "--project", "acme/config",
                      "--mode", "direct"))
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert json.loads(captured.out)["operation"] == "updated" and gitlab.requests == []


@pytest.mark.parametrize("server_variable", ["CI_SERVER_URL", "GITHUB_SERVER_URL"])
def test_a_group_project_path_is_a_project_on_the_jobs_own_server(
        git_server: GitServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        tmp_path: Path, server_variable: str) -> None:
    """`config-repo: acme/config`, as the component's input documents it (and actions/checkout names
    repositories), is that project on the CI job's server, not a local path that does not exist."""
    git_server.create_repo("acme/config", dict(FILES))
    monkeypatch.setenv(server_variable, git_server.url)
    monkeypatch.chdir(tmp_path)
    code = main(_argv("acme/config", git_server, "--forge", "local", "--token-env", "GIT_TOKEN"))
    assert code == 2  # GIT_TOKEN is not set: refused before any clone, naming the variable
    assert "GIT_TOKEN" in capsys.readouterr().err
    monkeypatch.setenv("GIT_TOKEN", git_server.password or "")
    code = main(_argv("acme/config", git_server, "--forge", "local", "--token-env", "GIT_TOKEN"))
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert json.loads(captured.out)["operation"] == "created"
    assert "handoff/dev/web" in remote_branches(git_server, "acme/config")


def test_a_token_pasted_with_its_newline_still_works(git_server: GitServer, github: GitHubContractServer,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """A secret stored with a trailing newline (a common copy-paste) reaches git and the API stripped, as
    a --token-file's does, instead of failing authentication or an HTTP header check."""
    url = git_server.create_repo("config", dict(FILES))
    monkeypatch.setenv("CONFIG_TOKEN", f"{git_server.password}\r\n")
    code = main(_argv(url, git_server, "--forge-url", github.base_url, "--project", "acme/config",
                      "--token-env", "CONFIG_TOKEN"))
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert json.loads(captured.out)["operation"] == "created" and github.violations == []
