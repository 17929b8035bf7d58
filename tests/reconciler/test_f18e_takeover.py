"""f18e: gaining leadership puts on the prune finalizer of every Source handled as standby, with no
further event for it (the loop's ``drain`` runs the ``on_leading`` hooks once per takeover). Real
kube-apiserver + etcd (a real Lease) and git server."""

from __future__ import annotations

import pytest

from handoff.kube.lease import LeaderElector
from handoff.reconciler.config import Settings
from handoff.reconciler.loop import Reconciler
from handoff.reconciler.sourcecrd import PRUNE_FINALIZER
from handoff.reconciler.sourceobjects import SourceObjects

from .cluster import Cluster
from .test_source_crd_live import cluster, get_source, source_object  # noqa: F401 - fixture

pytestmark = [pytest.mark.tools, pytest.mark.slow]


def _finalizers(c: Cluster) -> list[str]:
    return list(((get_source(c) or {}).get("metadata") or {}).get("finalizers") or [])


def test_taking_the_lease_puts_on_the_finalizer_of_a_source_handled_as_standby(cluster: Cluster) -> None:  # noqa: F811
    c = cluster
    old_leader = LeaderElector(c.client, c.control_ns, "handoff-reconciler", "replica-a")
    assert old_leader.try_acquire_or_renew()
    elector = LeaderElector(c.client, c.control_ns, "handoff-reconciler", "replica-b")
    assert not elector.try_acquire_or_renew()
    rec = Reconciler(Settings(sources=(), namespace=c.control_ns, leader_election=False), c.client, c.workdir,
                     elector=elector)
    objects = SourceObjects(rec, namespace=c.target_ns, allow_private_hosts=True)
    c.client.create(source_object(c))  # prune: true (the default)
    objects.changed(get_source(c) or {})  # handled as standby: nothing written
    rec.drain()
    assert PRUNE_FINALIZER not in _finalizers(c)
    old_leader.release()
    assert elector.try_acquire_or_renew()
    rec.drain()  # no event since: the takeover alone
    assert PRUNE_FINALIZER in _finalizers(c)


def test_a_standby_replica_writes_no_finalizer_on_draining(cluster: Cluster) -> None:  # noqa: F811
    c = cluster
    leader = LeaderElector(c.client, c.control_ns, "handoff-reconciler", "replica-a")
    assert leader.try_acquire_or_renew()
    elector = LeaderElector(c.client, c.control_ns, "handoff-reconciler", "replica-b")
    assert not elector.try_acquire_or_renew()
    rec = Reconciler(Settings(sources=(), namespace=c.control_ns, leader_election=False), c.client, c.workdir,
                     elector=elector)
    objects = SourceObjects(rec, namespace=c.target_ns, allow_private_hosts=True)
    c.client.create(source_object(c))
    objects.changed(get_source(c) or {})
    rec.drain()
    rec.drain()
    assert PRUNE_FINALIZER not in _finalizers(c)
