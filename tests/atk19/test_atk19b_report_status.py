"""atk19b: the reporter's combined per-env context and its per-source memory over the real git server and
the local forge's notes ref. Every test here fails today (see /work/scratch/atk19b-report.md)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from handoff.kube.client import Connection, KubeClient
from handoff.reconciler.config import Settings, Source
from handoff.reconciler.loop import Reconciler
from handoff.reconciler.metrics import Metrics
from handoff.reconciler.report_status import StatusReporter
from tests.harness.git_server import GitServer
from tests.reconciler.test_f19b_report_status import DEGRADED_1, HEALTHY_3, Remote, passed


@pytest.fixture
def remote(git_server: GitServer, tmp_path: Path) -> Remote:
    return Remote(git_server, tmp_path)


def _second_commit(server: GitServer, name: str) -> str:
    """A child of main in the bare repo (a later config commit), without a working tree."""
    bare = str(server.bare_path(name))

    def git(*args: str) -> str:
        env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e", "GIT_COMMITTER_NAME": "t",
               "GIT_COMMITTER_EMAIL": "t@e", "PATH": "/usr/bin:/bin"}
        return subprocess.run(["git", "-C", bare, *args], check=True, capture_output=True, text=True,
                              env=env).stdout.strip()

    child = git("commit-tree", "main^{tree}", "-p", "main", "-m", "bump web")
    git("update-ref", "refs/heads/main", child)
    return child


def _reconciler(remote: Remote, tmp_path: Path, *sources: Source) -> Reconciler:
    client = KubeClient(Connection(server="https://127.0.0.1:1"))  # never called: no pass runs here
    return Reconciler(Settings(sources=sources, status=remote.settings), client, tmp_path / "rec")


def test_a_new_commit_is_not_healthy_while_a_known_source_of_the_env_has_not_applied_it(
        remote: Remote, git_server: GitServer, tmp_path: Path) -> None:
    """Steady state, not a restart: both sources of dev have reported on the old commit; a new commit
    lands and source a applies it first. dev's context on the new commit says healthy although b (still
    at the old commit) has not applied it yet, so `handoff wait --commit NEW` returns 0 and the promote
    gate opens before cluster b ever saw the change (b could then go degraded)."""
    reporter = StatusReporter(remote.settings, tmp_path / "reporter", Metrics())
    a = Source(name="a", url=remote.url, env="dev", path="a")
    b = Source(name="b", url=remote.url, env="dev", path="b")
    old = remote.commit
    reporter.report(a, passed("a", old, HEALTHY_3))
    reporter.report(b, passed("b", old, HEALTHY_3))
    new = _second_commit(git_server, "config")
    reporter.report(a, passed("a", new, HEALTHY_3))
    seen = remote.read(new)
    assert seen is not None
    assert seen.state != "healthy", f"dev healthy on {new[:8]} though source b has not applied it: {seen}"


def test_a_dropped_source_does_not_hold_its_env_degraded(remote: Remote, tmp_path: Path) -> None:
    """Source a (degraded) is deleted or renamed (drop_source); b of the same env stays healthy at the same
    commit. a's remembered outcome is never forgotten (drop_source does not tell the reporter), so dev
    reads `degraded: a: …` on that commit for as long as the process runs: `handoff wait` exits 1 and
    promotion is refused because of a source that no longer exists."""
    a = Source(name="a", url=remote.url, env="dev", path="a")
    b = Source(name="b", url=remote.url, env="dev", path="b")
    rec = _reconciler(remote, tmp_path, a, b)
    rec.reporter.report(a, passed("a", remote.commit, DEGRADED_1))
    rec.reporter.report(b, passed("b", remote.commit, HEALTHY_3))
    rec.drop_source("a")  # its Source object deleted, or renamed to a2 below
    a2 = Source(name="a2", url=remote.url, env="dev", path="a")
    rec.set_source(a2)
    rec.reporter.report(a2, passed("a2", remote.commit, HEALTHY_3))
    rec.reporter.report(b, passed("b", remote.commit, HEALTHY_3))
    seen = remote.read(remote.commit)
    assert seen is not None
    assert seen.state == "healthy", f"a dropped source still decides dev: {seen}"


def test_a_source_moved_to_another_config_repo_posts_its_statuses_there(
        remote: Remote, git_server: GitServer, tmp_path: Path) -> None:
    """Source web-dev's spec is edited to follow another config repo (same name). The local backend (its
    notes remote and its .status/<name> clone) is cached by source name, so the new repo's commits get
    no status at all: the post goes to the old repo's remote, `wait` in the new repo times out."""
    web = Source(name="web-dev", url=remote.url, env="dev")
    rec = _reconciler(remote, tmp_path, web)
    rec.reporter.report(web, passed("web-dev", remote.commit, HEALTHY_3))
    other_url = git_server.create_repo("config-next", {"README.md": "moved\n"})
    other_commit = subprocess.run(["git", "-C", str(git_server.bare_path("config-next")), "rev-parse", "main"],
                                  check=True, capture_output=True, text=True).stdout.strip()
    moved = Source(name="web-dev", url=other_url, env="dev")
    rec.set_source(moved)
    rec.reporter.report(moved, passed("web-dev", other_commit, HEALTHY_3))
    reader = Remote.__new__(Remote)  # the same reader, pointed at the new repo
    reader.server, reader.tmp_path, reader.url, reader.reads = git_server, tmp_path / "next", other_url, 0
    seen = reader.read(other_commit)
    assert seen is not None and seen.state == "healthy", "no status in the repo the source follows now"


def test_a_rotated_status_token_is_read_again(remote: Remote, git_server: GitServer, tmp_path: Path) -> None:
    """The status token is a mounted Secret (status.tokenFile). It is read once, when the source's backend
    is first built, and cached for the process's life: after the Secret is rotated (the old token revoked,
    the file rewritten) every post fails until the reconciler restarts. The cluster token and a
    kubeconfig tokenFile are re-read on change (docs/reconciler.md "Cluster credentials")."""
    reporter = StatusReporter(remote.settings, tmp_path / "reporter", Metrics())
    web = Source(name="web-dev", url=remote.url, env="dev")
    reporter.report(web, passed("web-dev", remote.commit, HEALTHY_3))
    git_server.password = "rotated-" + str(git_server.password)  # the forge revokes the old token
    assert remote.settings.token_file is not None
    Path(remote.settings.token_file).write_text(git_server.password, encoding="utf-8")  # kubelet swaps the file
    reporter.report(web, passed("web-dev", remote.commit, DEGRADED_1))
    seen = remote.read(remote.commit)
    assert seen is not None and seen.state == "degraded", f"the rotated token was never read: {seen}"


def test_the_target_url_follows_the_worst_source_when_it_changes_but_the_state_does_not(
        remote: Remote, tmp_path: Path) -> None:
    """a and b of dev both degraded (a named, first by name); a recovers, b stays degraded. The combined
    state is still degraded, so nothing is reposted: the context keeps `a: …` and a targetUrl pointing at a
    healthy cluster while b, the one to look at, is never named."""
    reporter = StatusReporter(remote.settings, tmp_path / "reporter", Metrics())
    a = Source(name="a", url=remote.url, env="dev", path="a")
    b = Source(name="b", url=remote.url, env="dev", path="b")
    reporter.report(a, passed("a", remote.commit, DEGRADED_1))
    reporter.report(b, passed("b", remote.commit, DEGRADED_1))
    reporter.report(a, passed("a", remote.commit, HEALTHY_3))
    seen = remote.read(remote.commit)
    assert seen is not None and seen.state == "degraded"
    assert seen.target_url == f"https://ci.example/dev/b/{remote.commit}", f"names a healthy source: {seen}"

