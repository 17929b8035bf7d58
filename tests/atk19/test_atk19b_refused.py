"""atk19b: a revision the reconciler refuses for good (signature verification) and its commit status, in a
real pass (kube-apiserver + etcd, the git server, the local forge's notes ref). Fails today (see
/work/scratch/atk19b-report.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from handoff.commitstatus import NOTES_REF, LocalStatuses
from handoff.git.command import GitAuth
from handoff.git.notes import GitNotes
from handoff.reconciler.config import PruneSettings, Settings, StatusSettings, Verification
from handoff.reconciler.loop import Reconciler
from tests.reconciler.cluster import new_cluster

pytestmark = [pytest.mark.tools, pytest.mark.slow]

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\ndata: {a: b}\n"
SIGNER = "ops@example.test ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n"


def test_a_commit_the_reconciler_refuses_for_good_gets_a_failed_status(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    """An unsigned revision (verify: ssh) raises GitError, error kind "git", which report_status treats as
    TRANSIENT ("the git server unreachable: say nothing"). The refusal is permanent (the same holds for a
    file over HANDOFF_MAX_FILE_BYTES or a tree over the checkout caps, also GitError), so the commit
    never gets a status: `handoff wait --commit` runs to its timeout (124, "still rolling out") and
    `handoff status` shows nothing, instead of `failed: revision … is unsigned …; refusing to apply it`."""
    c = new_cluster(apiserver, git_server, tmp_path, {"app/cm.yaml": CM})
    signers = tmp_path / "allowed_signers"
    signers.write_text(SIGNER, encoding="utf-8")
    source = c.source(name="web-dev", env="dev", renderer="plain",
                      verify=Verification(mode="ssh", allowed_signers=str(signers)))
    status = StatusSettings(kind="local", token_file=str(c.token_file), username=c.username)
    rec = Reconciler(Settings(sources=(source,), namespace=c.control_ns, prune=PruneSettings(),
                              leader_election=False, status=status), c.client, c.workdir)
    result = rec.reconcile(source)
    assert not result.ok and "unsigned" in result.message, result  # refused in the real pass
    commit = result.attempted_revision
    assert len(commit) == 40
    notes = GitNotes(c.url, tmp_path / "read", NOTES_REF, auth=GitAuth(c.username, c.token_file.read_text()))
    seen = LocalStatuses(notes).read(commit).get("handoff/dev")
    assert seen is not None and seen.state == "failed", f"a refused commit has no status: {seen}"
