"""atk14c: GitOps frozen by the repo, through a Source object's own configuration. issue 14: "No source
can apply, patch or prune the reconciler's ... config; leadership cannot be taken by repo content" (a
committed Lease froze GitOps: "a repo-committed Lease refused and a later good commit applied"). A Source
object's configuration is the Source itself and the Secrets it references (git credentials, verification
keys) in its namespace, which the default tenant grant (every kind in its own namespace) lets the repo
write. Real kube-apiserver + etcd and git server, the Source objects driven in-process step by step."""

from __future__ import annotations

import pytest

from handoff.reconciler.config import Settings
from handoff.reconciler.loop import Reconciler
from handoff.reconciler.sourceobjects import SourceObjects

from .cluster import Cluster
from .test_source_crd_live import CM, cluster, source_object  # noqa: F401 - fixture

pytestmark = [pytest.mark.tools, pytest.mark.slow]


def _served(c: Cluster) -> tuple[Reconciler, SourceObjects]:
    rec = Reconciler(Settings(sources=(), namespace=c.control_ns, leader_election=False), c.client, c.workdir)
    return rec, SourceObjects(rec, namespace=c.target_ns)


def _look(objects: SourceObjects, rec: Reconciler) -> None:
    objects.sources_watch.relist()
    objects.secrets_watch.relist()
    rec.drain()


def _rev(c: Cluster) -> str:
    return str(((c.get("v1", "ConfigMap", "one") or {}).get("data") or {}).get("rev"))


def test_a_repo_cannot_overwrite_its_sources_git_credentials(cluster: Cluster) -> None:  # noqa: F811
    """The repo commits a Secret named as its Source's ``secretRef`` (a mistake, or a hostile push): its
    token replaces the one the namespace admin put there, the next fetch fails, and the revert commit can
    never be fetched. It must be refused, and a later good commit applied."""
    c = cluster
    rec, objects = _served(c)
    c.client.create(source_object(c))
    _look(objects, rec)
    assert [r.ok for r in rec.run_once()] == [True]
    c.repo.commit({"app/git.yaml": "apiVersion: v1\nkind: Secret\nmetadata: {name: git}\n"
                                   "stringData: {token: not-the-token, username: nobody}\n"},
                  "a Secret named git")
    first = rec.run_once()
    _look(objects, rec)
    c.repo.commit({"app/git.yaml": None, "app/cm.yaml": CM.format(name="one", rev=2)}, "revert, and rev 2")
    results = [r for _ in range(3) for r in rec.run_once()]
    assert _rev(c) == "2", ("a repo overwrote its Source's git credentials; the revert never reached the "
                            f"cluster: {first[0].result}: {first[0].message} / then {results[-1].message}")
