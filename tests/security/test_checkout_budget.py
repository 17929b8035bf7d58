"""The reconciler's checkout has a size budget, read from the tree before any blob is written, and its git
children are configured to stream big blobs under the child memory cap (issue 13, atk13c finding 6)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from handoff.errors import GitError
from handoff.git.command import Git, git_environment
from handoff.git.treesize import TreeBudget
from handoff.reconciler.config import Source
from handoff.reconciler.source import GitSource
from tests.harness.git_server import GitServer
from tests.reconciler.gitrepo import WorkRepo, bare_repo, git


@pytest.fixture
def repo(tmp_path: Path) -> WorkRepo:
    return WorkRepo(tmp_path / "work", bare_repo(tmp_path / "config.git"))


def _source(repo: WorkRepo, tmp_path: Path, budget: TreeBudget) -> GitSource:
    return GitSource(Source(name="web", url=repo.url, revision="main"), tmp_path / "cache", tree_budget=budget)


def _refused(src: GitSource, sha: str) -> str:
    with pytest.raises(GitError) as refused:
        src.checkout(sha)
    message = str(refused.value)
    assert "\n" not in message
    assert not (src.dir / "app").exists()  # refused before checkout: nothing written
    return message


def test_a_blob_over_the_file_limit_is_refused_naming_its_path(repo: WorkRepo, tmp_path: Path) -> None:
    sha = repo.commit({"app/cm.yaml": "a: 1\n", "assets/big.bin": "x" * 5000})
    message = _refused(_source(repo, tmp_path, TreeBudget(max_file_bytes=4096)), sha)
    assert message.startswith("assets/big.bin: 5000 bytes, over the 4096-byte file limit"), message
    assert "for source web" in message


def test_a_tree_over_the_total_size_is_refused_naming_the_path_where_it_ran_out(repo: WorkRepo,
                                                                               tmp_path: Path) -> None:
    sha = repo.commit({"app/cm.yaml": "a: 1\n", **{f"data/f{i}.txt": "y" * 1000 for i in range(5)}})
    message = _refused(_source(repo, tmp_path, TreeBudget(max_file_bytes=4096, max_total_bytes=3500)), sha)
    assert "is over 3500 bytes of files (at data/f3.txt)" in message, message


def test_a_tree_over_the_file_count_is_refused(repo: WorkRepo, tmp_path: Path) -> None:
    sha = repo.commit({"app/cm.yaml": "a: 1\n", **{f"many/f{i}": "z" for i in range(12)}})
    message = _refused(_source(repo, tmp_path, TreeBudget(max_file_bytes=4096, max_files=10)), sha)
    assert "holds more than 10 files" in message, message


def test_a_tree_within_the_budget_checks_out(repo: WorkRepo, tmp_path: Path) -> None:
    sha = repo.commit({"app/cm.yaml": "a: 1\n", **{f"many/f{i}": "z" for i in range(10)}})
    src = _source(repo, tmp_path, TreeBudget(max_file_bytes=4096, max_total_bytes=100, max_files=11))
    assert (src.checkout(sha).root / "app/cm.yaml").read_text() == "a: 1\n"


def test_the_default_budget_takes_the_yaml_file_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HANDOFF_MAX_FILE_BYTES", "1234")
    monkeypatch.setenv("HANDOFF_MAX_CHECKOUT_FILES", "77")
    assert TreeBudget.from_env() == TreeBudget(max_file_bytes=1234, max_files=77)


def test_a_git_child_over_the_memory_cap_is_killed_with_one_line(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    capped = Git(tmp_path, git_environment(), max_rss=1, context=" for source web")  # any sample is over
    with pytest.raises(GitError) as killed:
        # hash-object reading a slow stdin lives long enough to be sampled
        capped.run("hash-object", "--stdin", input_bytes=b"x" * (64 << 20))
    assert str(killed.value).startswith("git hash-object used more than 1 bytes of memory and was killed for "
                                        "source web"), str(killed.value)


@pytest.mark.tools
def test_a_big_blob_under_the_file_limit_is_streamed_not_inflated(git_server: GitServer, tmp_path: Path,
                                                                  record_property: Any) -> None:
    # served over HTTP, as in a cluster: the server's own git (a child of the harness) is not measured
    url = git_server.create_repo("cfg", {"app/cm.yaml": "a: 1\n", "assets/zeros.bin": b"\0" * (150 << 20)})
    token = tmp_path / "token"
    token.write_text(f"{git_server.password}\n")
    # the largest git child, from the process that waited for them (a fork of pytest would count pytest)
    script = ("import resource, sys; from pathlib import Path; "
              "from handoff.reconciler.config import Credentials, Source; "
              "from handoff.reconciler.source import GitSource; "
              "s = GitSource(Source(name='web', url=sys.argv[1], revision='main', credentials=Credentials("
              "token_file=sys.argv[3], username=sys.argv[4])), Path(sys.argv[2])); "
              "s.checkout(s.remote_revision()); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    done = subprocess.run([sys.executable, "-c", script, url, str(tmp_path / "cache"), str(token),
                           str(git_server.username)], env={**os.environ, "HANDOFF_MAX_FILE_BYTES": "200000000"},
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-500:]
    git_kib = int(done.stdout.split()[-1])
    print(f"\nfetch + checkout of a 150 MiB blob: largest git child {git_kib / 1024:.1f} MiB")
    record_property("git_big_blob_peak_rss_mib", round(git_kib / 1024, 1))
    assert (tmp_path / "cache" / "web" / "assets" / "zeros.bin").stat().st_size == 150 << 20
    assert git_kib < 64 * 1024, f"a git child held {git_kib / 1024:.0f} MiB: the blob was inflated whole"
