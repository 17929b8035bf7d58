"""The checkout's tree budget reads ``git ls-tree`` as a stream: entries split across pipe reads are counted
once each, and the first entry over the budget is refused with the same one line as before."""

from __future__ import annotations

from pathlib import Path

import pytest

from handoff.errors import GitError
from handoff.git.command import Git, git_environment
from handoff.git.treesize import TreeBudget, check_tree
from tests.reconciler.gitrepo import WorkRepo, bare_repo

FILES = 3_000  # with 120-character names, a listing of some 500 KB: many pipe reads


@pytest.fixture
def commit(tmp_path: Path) -> tuple[Git, str]:
    repo = WorkRepo(tmp_path / "work", bare_repo(tmp_path / "config.git"))
    sha = repo.commit({f"data/{i:0120d}.txt": "x" for i in range(FILES)})
    return Git(tmp_path / "work", git_environment()), sha


def test_a_tree_at_the_file_budget_is_accepted(commit: tuple[Git, str]) -> None:
    git, sha = commit
    check_tree(git, sha, TreeBudget(max_file_bytes=1 << 20, max_files=FILES))


def test_the_first_entry_over_the_file_budget_is_refused_by_name(commit: tuple[Git, str]) -> None:
    git, sha = commit
    with pytest.raises(GitError) as refused:
        check_tree(git, sha, TreeBudget(max_file_bytes=1 << 20, max_files=FILES - 1))
    message = str(refused.value)
    assert "\n" not in message and f"holds more than {FILES - 1} files" in message, message
    assert f"(at data/{FILES - 1:0120d}.txt)" in message, message


def test_the_byte_budget_counts_every_entry_of_a_streamed_listing(commit: tuple[Git, str]) -> None:
    git, sha = commit
    check_tree(git, sha, TreeBudget(max_file_bytes=1 << 20, max_total_bytes=FILES))
    with pytest.raises(GitError) as refused:
        check_tree(git, sha, TreeBudget(max_file_bytes=1 << 20, max_total_bytes=FILES - 1))
    assert f"(at data/{FILES - 1:0120d}.txt)" in str(refused.value), str(refused.value)
