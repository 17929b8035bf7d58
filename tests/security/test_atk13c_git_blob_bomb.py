"""atk13c: the reconciler's git children have no memory cap, and a config repo can make them take any.

A blob of zeros compresses about a thousandfold: a 320 MB file is a ~320 KB push. ``git fetch`` (index-pack
inflates every object under ``core.bigFileThreshold``, 512 MiB, whole into memory to hash it) and
``git checkout`` (which inflates it again to write it) each peak near the blob's size. The renderer
children are killed past ``maxChildMemory`` (``handoff/toolrun.py`` ``run(max_rss=...)``), but
``handoff/git/command.py`` ``Git.run`` calls ``run`` without ``max_rss``: the git children of
``reconcile --once`` (``handoff/reconciler/source.py`` ``GitSource.checkout``) go far past the 256Mi the
reconciler Pod shares with its children. The file need not even be rendered: it sits beside the rendered
path. This test fails until the git children are bounded (a memory cap, or a refusal of over-sized blobs
before checkout, e.g. a partial clone with ``--filter=blob:limit=`` under the file size limit).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from tests.harness.git_server import GitServer
from tests.harness.memory import peak_rss
from tests.reconciler.cluster import new_cluster
from tests.reconciler.gitrepo import git

pytestmark = pytest.mark.tools

POD_LIMIT_KIB = 256 * 1024  # the reconciler Deployment's memory limit, shared with every child it starts
BLOB_BYTES = 320 * 1000 * 1000
APP = {"app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  mode: prod\n"}


def _commit_zero_blob(work: Path, name: str) -> None:
    target = work / name
    target.parent.mkdir(parents=True, exist_ok=True)
    chunk = b"\0" * (1 << 20)
    with target.open("wb") as out:
        for _ in range(BLOB_BYTES // len(chunk)):
            out.write(chunk)
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", "a blob that compresses a thousandfold")
    git(work, "push", "-q", "origin", "HEAD:main")


def test_reconcile_once_fetching_a_zero_blob_stays_within_the_pod_memory(apiserver: Any, git_server: GitServer,
                                                                         tmp_path: Path,
                                                                         record_property: Any) -> None:
    c = new_cluster(apiserver, git_server, tmp_path, APP)
    _commit_zero_blob(c.repo.path, "assets/zeros.bin")
    argv = [sys.executable, "-m", "handoff", "reconcile", "--kubeconfig", str(apiserver.kubeconfig), "--repo", c.url,
            "--path", "app", "--revision", "main", "--name", f"src-{c.target_ns}", "--target-namespace", c.target_ns,
            "--namespace", c.control_ns, "--token-file", str(c.token_file), "--git-username", c.username,
            "--workdir", str(c.workdir), "--renderer", "plain", "--no-leader-elect", "--once"]
    code, own_kib, tree_kib = peak_rss(argv, tmp_path / "reconcile.log")
    log = (tmp_path / "reconcile.log").read_text(errors="replace")
    print(f"\nreconcile --once over a {BLOB_BYTES // 1000 // 1000} MB zero blob: exit {code}, peak RSS "
          f"{own_kib / 1024:.1f} MiB (reconciler), {tree_kib / 1024:.1f} MiB (largest of it and its git children)")
    record_property("reconciler_or_git_peak_rss_mib", round(tree_kib / 1024, 1))
    assert tree_kib < POD_LIMIT_KIB, (
        f"a git child of reconcile --once peaked at {tree_kib / 1024:.0f} MiB fetching and checking out a "
        f"{BLOB_BYTES // 1000 // 1000} MB blob of zeros (a ~{BLOB_BYTES // 1000 // 1000 // 1000 + 1} MB push): "
        "the config repo must not take more memory than the reconciler's 256Mi limit; git children need the "
        f"same memory cap as renderers (or over-sized blobs refused before checkout). log: {log[-600:]}")
