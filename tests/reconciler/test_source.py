import subprocess
from pathlib import Path
from typing import Any

import pytest

from handoff.errors import GitError
from handoff.reconciler.config import Credentials, Source, Verification
from handoff.reconciler.source import GitSource, git_env
from handoff.retry import RetryPolicy
from tests.harness.git_server import GitServer

from .gitrepo import WorkRepo, bare_repo, git


@pytest.fixture
def repo(tmp_path: Path) -> WorkRepo:
    return WorkRepo(tmp_path / "work", bare_repo(tmp_path / "config.git"))


def test_fetches_the_branch_head_shallowly(repo: WorkRepo, tmp_path: Path) -> None:
    repo.commit({"app/cm.yaml": "a: 1\n"})
    second = repo.commit({"app/cm.yaml": "a: 2\n"})
    src = GitSource(Source(name="web", url=repo.url, revision="main"), tmp_path / "cache")
    assert src.remote_revision() == second
    checkout = src.checkout(second)
    assert (checkout.root / "app/cm.yaml").read_text() == "a: 2\n"
    assert git(checkout.root, "rev-list", "--count", "HEAD") == "1"  # depth 1: no history transferred


def test_tags_and_commits_resolve(repo: WorkRepo, tmp_path: Path) -> None:
    first = repo.commit({"f": "1"})
    git(repo.path, "tag", "-a", "v1", "-m", "v1")
    git(repo.path, "push", "-q", "origin", "v1")
    repo.commit({"f": "2"})
    tagged = GitSource(Source(name="tag", url=repo.url, revision="v1"), tmp_path / "cache")
    assert tagged.remote_revision() == first
    pinned = GitSource(Source(name="pin", url=repo.url, revision=first), tmp_path / "cache")
    assert (pinned.checkout(pinned.remote_revision()).root / "f").read_text() == "1"


def test_unknown_revision_is_a_git_error(repo: WorkRepo, tmp_path: Path) -> None:
    repo.commit({"f": "1"})
    with pytest.raises(GitError, match="revision 'nope' not found"):
        GitSource(Source(name="web", url=repo.url, revision="nope"), tmp_path / "cache").remote_revision()


def test_token_travels_as_a_header_in_the_environment(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("s3cr3t-token-value\n")
    env = git_env(Source(name="web", url="https://git.example/x.git",
                         credentials=Credentials(token_file=str(token), username="bot")))
    keys = {env[f"GIT_CONFIG_KEY_{i}"]: env[f"GIT_CONFIG_VALUE_{i}"] for i in range(int(env["GIT_CONFIG_COUNT"]))}
    assert keys["http.extraHeader"].startswith("Authorization: Basic ")
    assert "s3cr3t" not in " ".join(env.values())  # base64-encoded, never plain, never in the URL


def _ssh_key(tmp_path: Path, name: str) -> Path:
    key = tmp_path / name
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    return key


def test_ssh_signature_verification(repo: WorkRepo, tmp_path: Path) -> None:
    trusted, stranger = _ssh_key(tmp_path, "trusted"), _ssh_key(tmp_path, "stranger")
    signers = tmp_path / "allowed_signers"
    signers.write_text(f"t@example.com {(tmp_path / 'trusted.pub').read_text()}")
    verify = Verification(mode="ssh", allowed_signers=str(signers))

    def signed_with(key: Path) -> tuple[str, ...]:
        return ("-c", "gpg.format=ssh", "-c", f"user.signingkey={key}", "-c", "commit.gpgsign=true")

    unsigned = repo.commit({"f": "1"})
    src = GitSource(Source(name="web", url=repo.url, verify=verify), tmp_path / "cache")
    with pytest.raises(GitError, match="unsigned or not signed by a trusted key"):
        src.checkout(unsigned)
    untrusted = repo.commit({"f": "2"}, "by a stranger", *signed_with(stranger))
    with pytest.raises(GitError, match="refusing to apply it"):
        src.checkout(untrusted)
    good = repo.commit({"f": "3"}, "signed", *signed_with(trusted))
    assert (src.checkout(good).root / "f").read_text() == "3"


def _served_source(git_server: GitServer, tmp_path: Path, **kw: Any) -> GitSource:
    url = git_server.create_repo("cfg", {"app/cm.yaml": "a: 1\n"})
    token = tmp_path / "token"
    token.write_text(f"{git_server.password}\n")
    source = Source(name="web", url=url, revision="main",
                    credentials=Credentials(token_file=str(token), username=str(git_server.username)))
    return GitSource(source, tmp_path / "cache", **kw)


def test_a_pass_tries_once_and_leaves_retrying_to_the_loop(git_server: GitServer, tmp_path: Path) -> None:
    src = _served_source(git_server, tmp_path)
    git_server.fail_next(1, status=503)
    with pytest.raises(GitError, match=r"git ls-remote failed for source web: .*503"):
        src.remote_revision()
    assert len(src.remote_revision()) == 40


def test_the_source_goes_through_the_one_wrapper_retrying_server_errors(git_server: GitServer,
                                                                        tmp_path: Path) -> None:
    sleeps: list[float] = []
    src = _served_source(git_server, tmp_path, network_retry=RetryPolicy(attempts=3, sleep=sleeps.append))
    git_server.fail_next(2, status=500)
    sha = src.remote_revision()
    assert len(sleeps) == 2
    assert (src.checkout(sha).root / "app/cm.yaml").read_text() == "a: 1\n"
    git_server.fail_next(1, status=404)
    with pytest.raises(GitError, match=r"git ls-remote failed for source web: .*not found"):
        src.remote_revision()
    assert len(sleeps) == 2  # a 4xx is not retried


def test_a_hung_server_times_out_with_one_line(git_server: GitServer, tmp_path: Path) -> None:
    src = _served_source(git_server, tmp_path, timeout=0.5)
    git_server.stall_next(1, seconds=3.0)
    with pytest.raises(GitError) as caught:
        src.remote_revision()
    assert str(caught.value) == "git ls-remote timed out after 0.5s for source web"
