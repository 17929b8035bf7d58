"""Many sources of one repository on one reconciler, against the harness's real kube-apiserver + etcd and
git server: sources sharing (URL, ref, credentials, verification) share one clone and ask the remote once
a round, each rendering its own path from that checkout; a round's drift checks share one list per kind
and namespace; an unchanged status ConfigMap is not written again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from handoff.kube.client import KubeClient
from handoff.reconciler.config import Credentials, PruneSettings, Settings, Source
from handoff.reconciler.loop import Reconciler
from handoff.reconciler.source import FetchPool
from handoff.report.model import ObjectRef

from .cluster import Cluster, new_cluster

pytestmark = [pytest.mark.tools, pytest.mark.slow]

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}}}\ndata: {{rev: \"{rev}\"}}\n"
APPS = ("a", "b", "c")


class CountingClient(KubeClient):
    """The real client, counting the requests it sends by (method, path without the query)."""

    def __init__(self, base: KubeClient) -> None:
        super().__init__(base.conn)
        self.sent: list[tuple[str, str]] = []

    def request(self, method: str, path: str, **kw: Any) -> Any:  # type: ignore[override]
        self.sent.append((method, path))
        return super().request(method, path, **kw)


@pytest.fixture
def cluster(apiserver: Any, git_server: Any, tmp_path: Path) -> Cluster:
    return new_cluster(apiserver, git_server, tmp_path,
                       {f"apps/{a}/cm.yaml": CM.format(name=a, rev=1) for a in APPS})


def _sources(c: Cluster, **changes: Any) -> tuple[Source, ...]:
    return tuple(c.source(name=f"{a}-{c.target_ns}", path=f"apps/{a}", renderer="plain", **changes)
                 for a in APPS)


def _reconciler(c: Cluster, client: KubeClient | None = None, **changes: Any) -> Reconciler:
    settings = Settings(sources=_sources(c, **changes), namespace=c.control_ns, prune=PruneSettings(),
                        leader_election=False)
    return Reconciler(settings, client or c.client, c.workdir)


def _upload_packs(git_server: Any, since: int) -> int:
    return sum("git-upload-pack" in line and line.startswith("POST") for line in git_server.requests[since:])


def test_sources_of_one_repository_and_ref_share_one_clone_and_one_ls_remote_a_round(
        cluster: Cluster, git_server: Any) -> None:
    rec = _reconciler(cluster)
    names = [s.name for s in rec.sources()]
    assert len({id(rec.git[n]) for n in names}) == 1
    before = len(git_server.requests)
    results = rec.run_once()
    assert [r.result for r in results] == ["Succeeded"] * 3, [r.message for r in results]
    # one ls-remote and one fetch for all three, each source rendering its own path
    assert _upload_packs(git_server, before) == 2
    for a in APPS:
        assert cluster.get("v1", "ConfigMap", a)["data"] == {"rev": "1"}
    sha = cluster.repo.commit({f"apps/{a}/cm.yaml": CM.format(name=a, rev=2) for a in APPS}, "rev 2")
    before = len(git_server.requests)
    assert all(r.ok for r in rec.run_once())
    assert _upload_packs(git_server, before) == 2  # the new commit: one ls-remote, one fetch
    assert {rec.state[n].applied_revision for n in names} == {sha}
    for a in APPS:
        assert cluster.get("v1", "ConfigMap", a)["data"] == {"rev": "2"}
    # outside a round every call asks the remote (a lone reconcile() sees a push at once)
    before = len(git_server.requests)
    rec.reconcile(rec.sources()[0])
    rec.reconcile(rec.sources()[1])
    assert _upload_packs(git_server, before) == 2


def test_sources_with_other_credentials_or_refs_never_share_a_clone(cluster: Cluster, tmp_path: Path) -> None:
    pool = FetchPool(tmp_path / "w")
    base = Source(name="one", url=cluster.url, credentials=Credentials(token_file=str(cluster.token_file)))
    same = pool.get(base)
    assert pool.get(Source(name="two", url=cluster.url, credentials=base.credentials)) is same
    other_token = tmp_path / "other-token"
    other_token.write_text("x")
    assert pool.get(Source(name="three", url=cluster.url,
                           credentials=Credentials(token_file=str(other_token)))) is not same
    assert pool.get(Source(name="four", url=cluster.url, revision="v1", credentials=base.credentials)) \
        is not same
    assert pool.get(Source(name="five", url=cluster.url)) is not same  # no credentials at all
    # a source whose spec moves to another repository leaves the shared clone; its last user frees it
    assert pool.get(Source(name="two", url="http://elsewhere.example/x.git")) is not same
    pool.release("one")
    assert pool.get(Source(name="six", url=cluster.url, credentials=base.credentials)) is not same


def test_a_steady_round_lists_each_kind_once_and_writes_no_unchanged_status(cluster: Cluster) -> None:
    counting = CountingClient(cluster.client)
    rec = _reconciler(cluster, counting)
    assert all(r.ok for r in rec.run_once())  # applied
    assert all(r.ok for r in rec.run_once())  # the first drift check: "no change" is news
    counting.sent.clear()
    assert all(r.ok for r in rec.run_once())  # nothing changed: three drift checks
    lists = [p for m, p in counting.sent if m == "GET" and p.endswith("/configmaps")]
    assert len(lists) == 1, counting.sent  # one list of the namespace's ConfigMaps for the three sources
    writes = [(m, p) for m, p in counting.sent if m != "GET"]
    assert writes == [], writes  # status unchanged, Source objects none: nothing written
    # drift made between rounds is still seen and reverted by the next round
    cluster.client.patch(ObjectRef("v1", "ConfigMap", "b", cluster.target_ns), {"data": {"rev": "tampered"}},
                         content_type="application/merge-patch+json", params={"fieldManager": "intruder"})
    results = rec.run_once()
    assert [len(r.drift) for r in results] == [0, 1, 0]
    assert cluster.get("v1", "ConfigMap", "b")["data"] == {"rev": "1"}
    # a changed result is written
    status_name = f"handoff-status-b-{cluster.target_ns}"
    cm = cluster.client.get("v1", "ConfigMap", status_name, cluster.control_ns)
    assert cm is not None and "reverted" in cm["data"]["message"]


def test_a_clone_is_kept_across_pools_only_for_its_own_url(cluster: Cluster, git_server: Any,
                                                           tmp_path: Path) -> None:
    """A workdir kept across restarts keeps a source's clone; one left by a spec with another URL is
    not reused (its origin would still be the old repository)."""
    creds = Credentials(token_file=str(cluster.token_file), username=cluster.username)
    first = FetchPool(tmp_path / "w").get(Source(name="web", url=cluster.url, credentials=creds))
    sha = first.remote_revision()
    first.checkout(sha)
    again = FetchPool(tmp_path / "w").get(Source(name="web", url=cluster.url, credentials=creds))
    assert again.dir == first.dir and (again.dir / "apps").is_dir()  # the restart kept the checkout
    other = git_server.create_repo(f"other-{cluster.target_ns}", {"x/cm.yaml": CM.format(name="x", rev=1)})
    moved = FetchPool(tmp_path / "w").get(Source(name="web", url=other, credentials=creds))
    assert moved.dir == first.dir and not (moved.dir / "apps").exists()
    moved.checkout(moved.remote_revision())
    assert (moved.dir / "x" / "cm.yaml").is_file() and not (moved.dir / "apps").exists()
