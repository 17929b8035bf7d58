"""atk18f: a Source renamed while its objects live: the new object (same spec, so the same objects) is
created, then the old one is deleted (``kubectl apply -f web-v2.yaml`` then ``kubectl delete source web``;
or a GitOps tool applying the renamed file and pruning the old name). Its finalizer prunes the old
Source's objects "never what another source of this reconciler declares now" (docs/reconciler.md,
Deletion). The reconciler restarts (a rollout, a node drain) while this is in flight, so its first list
hands it both: the deleting `web` first (list order is by name) and `web-v2` after it. The finalizer runs
on `web`'s event before `web-v2` is served, so nothing declares ConfigMap `one`: it is deleted, then
re-created by `web-v2`'s pass (a new uid: a PVC's data, a custom resource's operator state, gone). The same
order happens without a restart after a watch's 410 relist. Real kube-apiserver + etcd and git server."""

from __future__ import annotations

import pytest

from handoff.reconciler.config import Settings
from handoff.reconciler.loop import Reconciler
from handoff.reconciler.sourcecrd import API_VERSION, KIND, PRUNE_FINALIZER
from handoff.reconciler.sourceobjects import SourceObjects

from .cluster import Cluster
from .test_source_crd_live import cluster, get_source, source_object  # noqa: F401 - fixture

pytestmark = [pytest.mark.tools, pytest.mark.slow]


def _serving(c: Cluster) -> tuple[Reconciler, SourceObjects]:
    rec = Reconciler(Settings(sources=(), namespace=c.control_ns, leader_election=False), c.client, c.workdir)
    return rec, SourceObjects(rec, namespace=c.target_ns, allow_private_hosts=True)


def test_a_renamed_source_keeps_its_objects_when_the_reconciler_restarts_mid_rename(cluster: Cluster) -> None:  # noqa: F811
    c = cluster
    rec, objects = _serving(c)
    c.client.create(source_object(c, "web"))  # prune: true (the default)
    objects.sources_watch.relist()
    rec.drain()
    assert [r.ok for r in rec.run_once()] == [True]
    objects.sources_watch.relist()
    rec.drain()
    assert PRUNE_FINALIZER in ((get_source(c) or {}).get("metadata") or {}).get("finalizers", [])
    before = (c.get("v1", "ConfigMap", "one") or {})["metadata"]["uid"]

    # the rename, while the reconciler is down: the new name first, then the old one deleted
    c.client.create(source_object(c, "web-v2"))
    c.client.delete(API_VERSION, KIND, "web", c.target_ns)
    assert get_source(c) is not None  # held by its finalizer

    rec, objects = _serving(c)  # the restarted reconciler's first list
    objects.sources_watch.relist()
    rec.drain()
    after = c.get("v1", "ConfigMap", "one")
    assert after is not None and after["metadata"]["uid"] == before, \
        ("deleting the old name of a renamed Source must not prune what the new name (created first, the same "
         "spec) declares; ConfigMap one was "
         f"{'deleted' if after is None else 're-created with a new uid'} by the old name's finalizer")
