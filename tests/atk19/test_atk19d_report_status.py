"""atk19d: the combined per-env commit status when the sources of one env spell the same branch or the
same repository two ways, over the real git server and the local forge's notes ref. Fails today (see
/work/scratch/atk19d-report.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from handoff.reconciler.config import Source
from handoff.reconciler.metrics import Metrics
from handoff.reconciler.report_status import StatusReporter
from tests.atk19.test_atk19b_report_status import _second_commit
from tests.harness.git_server import GitServer
from tests.reconciler.test_f19b_report_status import DEGRADED_1, HEALTHY_3, Remote, passed


@pytest.fixture
def remote(git_server: GitServer, tmp_path: Path) -> Remote:
    return Remote(git_server, tmp_path)


def test_a_source_following_refs_heads_main_is_waited_for_by_one_following_main(
        remote: Remote, git_server: GitServer, tmp_path: Path) -> None:
    """Two clusters of dev follow the same branch, one written `branch: main`, the other
    `branch: refs/heads/main` (both valid, both resolve to the same commit through ls-remote). Both have
    reported on the old commit. A new commit lands and only a applies it: dev's status on it must stay
    `applying` (b has not applied it), but _expected compares the spellings as strings, so b is not
    waited for, the commit reads healthy and `handoff wait` / the promote gate pass before b saw it."""
    reporter = StatusReporter(remote.settings, tmp_path / "reporter", Metrics())
    a = Source(name="a", url=remote.url, env="dev", path="a", revision="main")
    b = Source(name="b", url=remote.url, env="dev", path="b", revision="refs/heads/main")
    reporter.report(a, passed("a", remote.commit, HEALTHY_3))
    reporter.report(b, passed("b", remote.commit, HEALTHY_3))
    new = _second_commit(git_server, "config")
    reporter.report(a, passed("a", new, HEALTHY_3))
    seen = remote.read(new)
    assert seen is not None and seen.state == "applying", (
        f"b follows the same branch (refs/heads/main) and has not applied {new[:12]}: dev should read "
        f"applying, not {seen}")


def test_one_repository_spelled_two_ways_is_one_place(remote: Remote, tmp_path: Path) -> None:
    """Two clusters of dev fetch the same config repository, one by its URL and one with a trailing
    slash (git treats both as the same remote). Their statuses land in the same repo and context, but the
    reporter keys the place by the URL string, so each is combined alone: b's `degraded` is posted, then
    a's `healthy` overwrites it on the same commit and context, and dev reads healthy while b is degraded
    (worst-wins must hold whatever the URL spelling)."""
    reporter = StatusReporter(remote.settings, tmp_path / "reporter", Metrics())
    a = Source(name="a", url=remote.url, env="dev", path="a")
    b = Source(name="b", url=remote.url + "/", env="dev", path="b")
    reporter.report(b, passed("b", remote.commit, DEGRADED_1))
    assert (first := remote.read(remote.commit)) is not None and first.state == "degraded", first
    reporter.report(a, passed("a", remote.commit, HEALTHY_3))
    seen = remote.read(remote.commit)
    assert seen is not None and seen.state == "degraded", (
        f"b ({b.url}) is degraded on the commit a ({a.url}) applied healthy, same repository and context: "
        f"dev should read degraded, not {seen}")
