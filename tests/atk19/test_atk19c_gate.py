"""atk19c: the promote gate with a status key (``--status-key-file``) fails open: when no entry verifies,
"no status on any recent commit" reads as "no reporting reconciler" and promote passes. Over the real
git server as the local-forge config repo. Each test FAILS today; its assertion says what should hold."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from handoff.cli import main
from handoff.commitstatus import NOTES_REF
from handoff.workflows.promote import EXIT_UNHEALTHY
from tests.atk19.test_atk19_closed_loop import Repo
from tests.harness.git_server import GitServer

KEY = b"0123456789abcdef0123456789abcdef"


@pytest.fixture
def repo(git_server: GitServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Repo:
    monkeypatch.setenv("STATUS_TOKEN", str(git_server.password))
    return Repo(git_server, tmp_path)


def _promote(repo: Repo, key: Path) -> int:
    return main(["promote", "--app", "web", "--from", "dev", "--to", "prod", "--config-repo", repo.url,
                 "--token-env", "STATUS_TOKEN", "--git-username", str(repo.server.username),
                 "--status-key-file", str(key)])


def test_deleting_the_notes_ref_does_not_open_the_promote_gate(repo: Repo,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    key = repo.tmp_path / "status.key"
    key.write_bytes(KEY + b"\n")
    repo.post(repo.bumped, "degraded", key=KEY)  # dev's reconciler, signing: 1.1.0 is degraded
    assert _promote(repo, key) == EXIT_UNHEALTHY
    capsys.readouterr()
    # any config-repo writer (the one the key guards against) can delete the ref
    clone = repo.tmp_path / "mallory"
    subprocess.run(["git", "clone", "-q", repo.auth_url, str(clone)], check=True)
    subprocess.run(["git", "-C", str(clone), "push", "-q", "origin", f":{NOTES_REF}"], check=True)
    code = _promote(repo, key)
    out = capsys.readouterr()
    assert code == EXIT_UNHEALTHY, (
        "with --status-key-file CI says a signing reconciler reports dev; a writer deleting (or "
        "rewriting) refs/notes/handoff-status must not turn 'dev is degraded' into 'no reconciler "
        "reports dev: passed' (workflows/promote.py check_health); today promote exits "
        f"{code}: {(out.out + out.err).strip()[-300:]}")


def test_a_stale_key_does_not_open_the_promote_gate(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    rotated = repo.tmp_path / "old.key"
    rotated.write_bytes(b"fedcba9876543210fedcba9876543210\n")
    repo.post(repo.bumped, "degraded", key=KEY)  # the reconciler signs with the new key
    code = _promote(repo, rotated)  # CI still holds the old one
    out = capsys.readouterr()
    assert code == EXIT_UNHEALTHY, (
        "dev is degraded; CI's key does not verify any entry (rotated on the reconciler only): the gate "
        "must refuse (no verified status while statuses exist), not read 'no reporting reconciler' and "
        f"promote; today promote exits {code}: {(out.out + out.err).strip()[-300:]}")
