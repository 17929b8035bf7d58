"""A forge's git front end answering 5xx for a moment must not fail a CI job: network git commands are
retried a few times; errors that will not go away (4xx) are not."""

from __future__ import annotations

from pathlib import Path

import pytest

from handoff.errors import GitError
from handoff.git.command import git_environment
from handoff.git.repo import GitAuth, Repo
from handoff.retry import RetryPolicy
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


# -- the git wrapper itself, against the same real server --------------------------------------------------


def _repo(server: GitServer, url: str, tmp_path: Path, sleeps: list[float], *, attempts: int = 4,
          timeout: float = 300.0, auth: bool = True) -> Repo:
    assert server.username and server.password
    policy = RetryPolicy(attempts=attempts, base_delay=0.5, max_delay=8.0, sleep=sleeps.append)
    return Repo.init(tmp_path / "clone", url, auth=GitAuth(server.username, server.password) if auth else None,
                     timeout=timeout, network_retry=policy)


def _ref_listings(server: GitServer) -> int:
    return sum("info/refs" in line for line in server.requests)


def test_server_errors_are_retried_with_backoff(git_server: GitServer, tmp_path: Path) -> None:
    url = git_server.create_repo("flaky-heads", MARKERS)
    sleeps: list[float] = []
    repo = _repo(git_server, url, tmp_path, sleeps)
    git_server.fail_next(2, status=503)
    assert set(repo.remote_heads("main")) == {"main"}
    assert len(sleeps) == 2 and all(0.0 <= s <= 8.0 for s in sleeps)
    assert _ref_listings(git_server) == 3


def test_client_errors_fail_at_once_with_one_request(git_server: GitServer, tmp_path: Path) -> None:
    url = git_server.create_repo("forbidden", MARKERS)
    sleeps: list[float] = []
    repo = _repo(git_server, url, tmp_path, sleeps)
    git_server.fail_next(1, status=403)
    with pytest.raises(GitError, match=r"^git ls-remote failed: .*403"):
        repo.remote_heads("main")
    assert sleeps == [] and _ref_listings(git_server) == 1


def test_attempts_are_bounded(git_server: GitServer, tmp_path: Path) -> None:
    url = git_server.create_repo("down", MARKERS)
    sleeps: list[float] = []
    repo = _repo(git_server, url, tmp_path, sleeps, attempts=3)
    git_server.fail_next(10, status=502)
    with pytest.raises(GitError, match=r"git fetch: giving up after 3 attempts: git fetch failed: .*502"):
        repo.fetch("main")
    assert len(sleeps) == 2 and _ref_listings(git_server) == 3


def test_a_hung_server_is_a_one_line_timeout_naming_the_command(git_server: GitServer, tmp_path: Path) -> None:
    url = git_server.create_repo("hung", MARKERS)
    repo = _repo(git_server, url, tmp_path, [], timeout=0.5)
    git_server.stall_next(1, seconds=3.0)
    with pytest.raises(GitError) as caught:
        repo.remote_heads("main")
    message = str(caught.value)
    assert message == "git ls-remote timed out after 0.5s"
    assert git_server.password not in message and git_server.auth_header() not in message


def test_no_credential_helper_or_global_config_is_consulted(git_server: GitServer, tmp_path: Path,
                                                            sandbox: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The job's global config asks a credential helper for a password and rewrites the URL; handoff's
    git uses neither (an unauthenticated request is refused by the server, not answered by the helper)."""
    url = git_server.create_repo("private", MARKERS)
    marker = tmp_path / "helper-ran"
    with (sandbox / ".gitconfig").open("a") as config:
        config.write(f"[credential]\n\thelper = \"!f() {{ touch {marker}; echo password=x; }}; f\"\n"
                     f"[url \"http://127.0.0.1:9/\"]\n\tinsteadOf = {git_server.url}/\n")
    monkeypatch.setenv("GIT_DIR", str(tmp_path / "not-a-repo"))  # as inside a hook: must not leak in
    repo = _repo(git_server, url, tmp_path, [], auth=False)
    with pytest.raises(GitError, match="git ls-remote failed"):
        repo.remote_heads("main")
    assert not marker.exists()
    assert any(r.path.startswith("/private.git/") for r in git_server.logged)  # no insteadOf rewrite
    with_auth = _repo(git_server, url, tmp_path / "second", [])
    assert set(with_auth.remote_heads("main")) == {"main"}


def test_only_the_ssh_client_and_trace2_logs_are_inherited(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("GIT_TRACE_CURL", "GIT_TRACE2_CONFIG_PARAMS", "GIT_TRACE2_ENV_VARS", "GIT_DIR", "GIT_CONFIG_COUNT"):
        monkeypatch.setenv(name, "1")
    monkeypatch.setenv("GIT_SSH_COMMAND", "ssh -i deploy_key")
    monkeypatch.setenv("GIT_TRACE2_EVENT", "/tmp/trace.json")
    env = git_environment(auth=GitAuth("bot", "s3cret-value"))
    assert env["GIT_SSH_COMMAND"] == "ssh -i deploy_key" and env["GIT_TRACE2_EVENT"] == "/tmp/trace.json"
    assert not {"GIT_TRACE_CURL", "GIT_TRACE2_CONFIG_PARAMS", "GIT_TRACE2_ENV_VARS", "GIT_DIR"} & set(env)
    assert (env["GIT_CONFIG_NOSYSTEM"], env["GIT_CONFIG_GLOBAL"], env["GIT_TERMINAL_PROMPT"]) == ("1", "/dev/null", "0")
    config = {env[f"GIT_CONFIG_KEY_{i}"]: env[f"GIT_CONFIG_VALUE_{i}"] for i in range(int(env["GIT_CONFIG_COUNT"]))}
    assert config["credential.helper"] == "" and config["http.extraHeader"].startswith("Authorization: Basic ")
    assert "s3cret-value" not in " ".join(env.values())
