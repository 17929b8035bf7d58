"""atk19d: reconciler shards (processes with distinct contexts, as docs/reconciler.md's Known limits
advise) posting their statuses on one commit at the same moment through the depth-1 notes fetch, over the
real git server. Fails today if any post is lost (see /work/scratch/atk19d-report.md)."""

from __future__ import annotations

import threading
from pathlib import Path

from handoff.commitstatus import LocalStatuses
from tests.commitstatus.test_local_notes import _head, _notes
from tests.harness.git_server import GitServer

SHARDS = 8


def test_shards_posting_at_once_lose_no_status(git_server: GitServer, tmp_path: Path) -> None:
    """Eight shards of one env (`context: handoff/{env}/{source}`) post on the same commit at once, each
    from its own notes clone. Every post must land (each writer re-fetches and retries a rejected push);
    local.py retries PUSH_ATTEMPTS (5) times back to back, no backoff or jitter, so with 8 writers about
    three give up ("kept moving"): their status is missing (wait and the gate see the older state) until
    that source's next pass that reports health re-posts it."""
    url = git_server.create_repo("config", {"README.md": "config\n"})
    commit = _head(git_server, "config")
    writers = [LocalStatuses(_notes(git_server, url, tmp_path / f"shard-{i}")) for i in range(SHARDS)]
    for w in writers:
        w.read(commit)  # every clone exists and has fetched: the race is the posts only
    start = threading.Barrier(SHARDS)
    errors: list[str] = []

    def post(i: int) -> None:
        start.wait()
        try:
            writers[i].post(commit, f"handoff/prod/shard-{i}", "healthy", "3 object(s) healthy")
        except Exception as e:  # the test reports every writer's failure
            errors.append(f"shard-{i}: {e}")

    threads = [threading.Thread(target=post, args=(i,)) for i in range(SHARDS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    got = LocalStatuses(_notes(git_server, url, tmp_path / "reader")).read(commit)
    missing = sorted(f"handoff/prod/shard-{i}" for i in range(SHARDS) if f"handoff/prod/shard-{i}" not in got)
    assert not errors and not missing, f"concurrent posts lost: errors {errors}, missing contexts {missing}"
