"""The combined per-env status knows which sources share a context: one that has not applied a commit yet
holds it ``applying``, one that is dropped stops counting (and its per-source memory goes), one that
follows another ref is not waited for; over the real git server and the local forge's notes ref."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from handoff.reconciler.config import Source
from handoff.reconciler.metrics import Metrics
from handoff.reconciler.report_status import StatusReporter
from tests.harness.git_server import GitServer
from tests.reconciler.test_f19b_report_status import DEGRADED_1, HEALTHY_3, Remote, passed, posts


@pytest.fixture
def remote(git_server: GitServer, tmp_path: Path) -> Remote:
    return Remote(git_server, tmp_path)


def _child_commit(server: GitServer) -> str:
    bare = str(server.bare_path("config"))
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@e",
           "PATH": "/usr/bin:/bin"}
    child = subprocess.run(["git", "-C", bare, "commit-tree", "main^{tree}", "-p", "main", "-m", "next"], check=True,
                           capture_output=True, text=True, env=env).stdout.strip()
    subprocess.run(["git", "-C", bare, "update-ref", "refs/heads/main", child], check=True, env=env)
    return child


def test_a_source_not_yet_at_the_commit_is_named_and_once_dropped_no_longer_waited_for(
        remote: Remote, git_server: GitServer, tmp_path: Path) -> None:
    reporter = StatusReporter(remote.settings, tmp_path / "reporter", Metrics())
    a = Source(name="a", url=remote.url, env="dev", path="a")
    b = Source(name="b", url=remote.url, env="dev", path="b")
    reporter.report(a, passed("a", remote.commit, HEALTHY_3))
    reporter.report(b, passed("b", remote.commit, HEALTHY_3))
    new = _child_commit(git_server)
    reporter.report(a, passed("a", new, HEALTHY_3))
    seen = remote.read(new)
    assert seen is not None and seen.state == "applying" and seen.description.endswith(" b: not applied yet"), seen
    assert seen.target_url == f"https://ci.example/dev/b/{new}"
    reporter.forget("b")  # deleted before it ever applied the new commit: a alone decides now
    seen = remote.read(new)
    assert seen is not None and seen.state == "healthy", seen


def test_a_source_following_another_ref_is_not_waited_for(
        remote: Remote, git_server: GitServer, tmp_path: Path) -> None:
    reporter = StatusReporter(remote.settings, tmp_path / "reporter", Metrics())
    a = Source(name="a", url=remote.url, env="dev", path="a")
    pinned = Source(name="pinned", url=remote.url, env="dev", path="b", revision=remote.commit)
    reporter.report(a, passed("a", remote.commit, HEALTHY_3))
    reporter.report(pinned, passed("pinned", remote.commit, HEALTHY_3))
    assert posts(reporter) == 1  # the second healthy source of a healthy context is no news
    new = _child_commit(git_server)
    reporter.report(a, passed("a", new, HEALTHY_3))
    seen = remote.read(new)
    assert seen is not None and seen.state == "healthy", seen  # pinned never applies main's new commit


def test_a_dropped_source_leaves_no_memory_behind(remote: Remote, tmp_path: Path) -> None:
    """Sources that come and go (per-PR previews) do not grow the reporter: what it keeps per source, and
    the notes clone of a repository no source posts to any more, go with the source."""
    reporter = StatusReporter(remote.settings, tmp_path / "reporter", Metrics())
    for n in range(5):
        preview = Source(name=f"pr-{n}", url=remote.url, env=f"pr-{n}")
        reporter.report(preview, passed(preview.name, remote.commit, DEGRADED_1 if n % 2 else HEALTHY_3))
        reporter.forget(preview.name)
    # private tables, read on purpose: the bound is the behaviour under test
    assert not reporter._members and not reporter._calls_at and not reporter._backends
    assert not reporter._said and not reporter._posted
    assert not any((tmp_path / "reporter" / ".status").iterdir())
    seen = remote.read(remote.commit, "handoff/pr-3")
    assert seen is not None and seen.state == "degraded"  # what was posted stays on the commit


def test_a_source_moved_to_another_repository_drops_the_old_ones_notes_clone(
        remote: Remote, git_server: GitServer, tmp_path: Path) -> None:
    reporter = StatusReporter(remote.settings, tmp_path / "reporter", Metrics())
    reporter.report(Source(name="web-dev", url=remote.url, env="dev"), passed("web-dev", remote.commit, HEALTHY_3))
    clones = tmp_path / "reporter" / ".status"
    first = set(clones.iterdir())
    other = git_server.create_repo("config-next", {"README.md": "moved\n"})
    moved_to = subprocess.run(["git", "-C", str(git_server.bare_path("config-next")), "rev-parse", "main"],
                              check=True, capture_output=True, text=True).stdout.strip()
    reporter.report(Source(name="web-dev", url=other, env="dev"), passed("web-dev", moved_to, HEALTHY_3))
    assert len(reporter._backends) == 1 and not first & set(clones.iterdir())


def test_a_source_moved_to_another_env_no_longer_decides_the_old_one(remote: Remote, tmp_path: Path) -> None:
    reporter = StatusReporter(remote.settings, tmp_path / "reporter", Metrics())
    web = Source(name="web", url=remote.url, env="dev", path="a")
    b = Source(name="b", url=remote.url, env="dev", path="b")
    reporter.report(web, passed("web", remote.commit, DEGRADED_1))
    reporter.report(b, passed("b", remote.commit, HEALTHY_3))
    moved = Source(name="web", url=remote.url, env="staging", path="a")  # its spec now says staging
    reporter.report(moved, passed("web", remote.commit, HEALTHY_3))
    dev, staging = remote.read(remote.commit), remote.read(remote.commit, "handoff/staging")
    assert dev is not None and dev.state == "healthy", dev  # b alone is dev now
    assert staging is not None and staging.state == "healthy"
