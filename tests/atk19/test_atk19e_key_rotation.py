"""atk19e: the local forge's status key (``status.keyFile``, a mounted Secret) is read only when a source's
backend is built, and the backend is rebuilt only when the *token* file changes. After the key is rotated
(the Secret rewritten, CI given the new key as ``--status-key-file``) the reconciler keeps signing with the
old key until it restarts, so every status it posts is ignored by CI: `handoff wait` times out (124) and the
promote gate refuses on every deployment. Over the real git server and the notes ref. Fails today (see
/work/scratch/atk19e-report.md)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from handoff.commitstatus import NOTES_REF, LocalStatuses
from handoff.git.notes import GitNotes
from handoff.git.repo import GitAuth
from handoff.reconciler.config import Source
from handoff.reconciler.metrics import Metrics
from handoff.reconciler.report_status import StatusReporter
from tests.atk19.test_atk19b_report_status import _second_commit
from tests.harness.git_server import GitServer
from tests.reconciler.test_f19b_report_status import HEALTHY_3, Remote, passed

OLD_KEY = b"old-status-key-0123456789abcdef"
NEW_KEY = b"new-status-key-fedcba9876543210"


@pytest.fixture
def remote(git_server: GitServer, tmp_path: Path) -> Remote:
    return Remote(git_server, tmp_path)


def _read(remote: Remote, git_server: GitServer, commit: str, key: bytes, where: Path) -> object:
    auth = GitAuth(str(git_server.username), str(git_server.password))
    notes = GitNotes(remote.url, where, NOTES_REF, auth=auth)
    return LocalStatuses(notes, key=key).read(commit).get("handoff/dev")


def test_a_rotated_status_key_signs_the_next_post(remote: Remote, git_server: GitServer, tmp_path: Path) -> None:
    key_file = tmp_path / "status-key"
    key_file.write_bytes(OLD_KEY)
    settings = replace(remote.settings, key_file=str(key_file))
    reporter = StatusReporter(settings, tmp_path / "reporter", Metrics())
    web = Source(name="web-dev", url=remote.url, env="dev")
    reporter.report(web, passed("web-dev", remote.commit, HEALTHY_3))
    assert _read(remote, git_server, remote.commit, OLD_KEY, tmp_path / "r1") is not None, "old key not used"
    key_file.write_bytes(NEW_KEY)  # the kubelet swaps the rotated Secret; CI now holds NEW_KEY
    new = _second_commit(git_server, "config")
    reporter.report(web, passed("web-dev", new, HEALTHY_3))
    seen = _read(remote, git_server, new, NEW_KEY, tmp_path / "r2")
    with_old = _read(remote, git_server, new, OLD_KEY, tmp_path / "r3")
    assert seen is not None, (
        f"status.keyFile was rotated before {new[:12]} was reported, but the post is not signed with the "
        f"new key (signed with the old one: {with_old is not None}): CI holding the new key ignores it, "
        "wait times out and the gate refuses until the reconciler restarts")
