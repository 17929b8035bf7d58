"""A revision refused for what it is (a tree over the checkout caps, an unsigned commit) is a permanent
refusal, told apart by its type: error kind ``refused``, a ``failed`` commit status. A git server that
does not answer stays ``git``: transient, no status (atk19b finding 6)."""

from __future__ import annotations

from pathlib import Path

import pytest

from handoff.errors import GitError, RevisionRefused
from handoff.git.treesize import TreeBudget
from handoff.reconciler.config import Source
from handoff.reconciler.loop import error_kind
from handoff.reconciler.report_status import deploy_state
from handoff.reconciler.source import GitSource
from handoff.reconciler.status import FAILED, PassResult
from tests.reconciler.gitrepo import WorkRepo, bare_repo


@pytest.fixture
def repo(tmp_path: Path) -> WorkRepo:
    return WorkRepo(tmp_path / "work", bare_repo(tmp_path / "config.git"))


def _refusal(e: GitError, revision: str) -> PassResult:
    return PassResult("web", FAILED, message=str(e), attempted_revision=revision, applied_revision="",
                      error_kind=error_kind(e))



@pytest.mark.parametrize("budget", [TreeBudget(max_file_bytes=4096), TreeBudget(max_file_bytes=1 << 20, max_files=1),
                                    TreeBudget(max_file_bytes=1 << 20, max_total_bytes=100)],
                         ids=["file", "files", "total"])
def test_a_tree_over_the_checkout_caps_is_a_refused_revision_with_a_failed_status(
        repo: WorkRepo, tmp_path: Path, budget: TreeBudget) -> None:
    sha = repo.commit({"app/cm.yaml": "a: 1\n", "assets/big.bin": "x" * 5000})
    src = GitSource(Source(name="web", url=repo.url, revision="main"), tmp_path / "cache", tree_budget=budget)
    with pytest.raises(RevisionRefused) as refused:
        src.checkout(sha)
    assert error_kind(refused.value) == "refused"
    assert deploy_state(_refusal(refused.value, sha)) == (sha, "failed", str(refused.value))


def test_a_git_server_that_does_not_answer_is_transient_and_says_nothing(tmp_path: Path) -> None:
    src = GitSource(Source(name="web", url=f"file://{tmp_path}/missing.git", revision="main"), tmp_path / "cache")
    with pytest.raises(GitError) as failed:
        src.remote_revision()
    assert not isinstance(failed.value, RevisionRefused)
    assert error_kind(failed.value) == "git"
    assert deploy_state(_refusal(failed.value, "a" * 40)) is None
