"""atk13f: the checkout's tree budget buffers the whole ``git ls-tree -r`` listing in handoff's own memory.

``handoff/git/treesize.py`` ``check_tree`` runs ``git ls-tree -r -l -z --full-tree`` and counts entries
against ``max_files`` only after the whole listing is in memory: ``Git.run`` (``handoff/git/command.py``)
passes no ``max_stdout`` to ``toolrun.run``, and the child memory cap bounds git, not the reconciler that
collects git's stdout. A repository can make that listing as large as it likes at no cost: nine tree
objects, each holding four entries that all name the next one (long names), are a few kilobytes to push
and list as 262,144 paths of about 900 bytes (some 250 MB). The check refuses the tree ("holds more than
50000 files"), but only after holding the listing (and its copies) whole: handoff's peak RSS was about
500 MiB, twice the reconciler Pod's 256Mi. What should hold: the budget check's own memory stays bounded
(stop reading at ``max_files``, or cap the listing's bytes), whatever the tree looks like.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from handoff.git.command import git_environment
from tests.harness.tools import require_tool

pytestmark = pytest.mark.tools

FAN, DEPTH, WIDTH = 4, 8, 100  # 4**9 paths, each 9 names of 100 characters
MAX_PEAK_MIB = 128  # half the reconciler Pod's memory limit; this check with a small tree peaks near 20 MiB

CHECK = """
import sys
from pathlib import Path
from handoff.errors import GitError
from handoff.git.command import Git, git_environment
from handoff.git.treesize import TreeBudget, check_tree
try:
    check_tree(Git(Path(sys.argv[1]), git_environment()), sys.argv[2], TreeBudget(max_file_bytes=1 << 20))
    print("accepted")
except GitError as e:
    print("refused:", e)
# VmHWM is this address space's own peak: ru_maxrss would start at pytest's size (vfork + exec, see
# tests/harness/memory.py), so after a long run it measured pytest, not this check
print(int(next(l for l in open('/proc/self/status') if l.startswith('VmHWM:')).split()[1]) // 1024)
"""


def _tree_bomb(repo: Path) -> str:
    git, env = str(require_tool("git")), git_environment()
    subprocess.run([git, "init", "-q", "--bare", str(repo)], check=True, env=env)

    def run(*args: str, stdin: bytes = b"") -> str:
        return subprocess.run([git, "-C", str(repo), *args], input=stdin, capture_output=True, check=True,
                              env=env).stdout.decode().strip()

    blob = run("hash-object", "-w", "--stdin")
    tree = run("mktree", "-z", stdin=b"".join(f"100644 blob {blob}\t{i:0{WIDTH}d}\0".encode() for i in range(FAN)))
    for _ in range(DEPTH):
        tree = run("mktree", "-z", stdin=b"".join(f"040000 tree {tree}\t{i:0{WIDTH}d}\0".encode()
                                                  for i in range(FAN)))
    return run("-c", "user.name=t", "-c", "user.email=t@example.com", "commit-tree", tree, "-m", "a tree bomb")


def test_the_tree_budget_check_holds_no_unbounded_listing(tmp_path: Path) -> None:
    repo = tmp_path / "bomb.git"
    commit = _tree_bomb(repo)
    done = subprocess.run([sys.executable, "-c", CHECK, str(repo), commit], capture_output=True, text=True,
                          timeout=300, check=False, cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr
    verdict, peak = done.stdout.strip().splitlines()
    assert verdict.startswith("refused:") and "50000 files" in verdict, verdict
    assert int(peak) < MAX_PEAK_MIB, (
        f"checking a {FAN ** (DEPTH + 1)}-path tree (a few KB of objects) against the 50000-file budget took "
        f"handoff itself to {peak} MiB: the whole `git ls-tree -r` listing is buffered before it is counted")
