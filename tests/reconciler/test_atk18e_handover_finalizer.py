"""atk18e: a Source created during a leadership handover. The standby replica handles its ADDED event
(it parses and serves it, but ``_keep_finalizer`` writes nothing: not the leader); the old leader is gone
before handling it. The standby then takes the Lease: nothing re-checks the Sources it handled as standby,
and their later events (its own status write) are ``_same_but_status``, so a Source whose spec prunes
never gets ``handoff.dev/prune`` until its spec is edited, and deleting it orphans its objects. Real
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


def test_a_source_handled_as_standby_gets_its_finalizer_once_leader(cluster: Cluster) -> None:  # noqa: F811
    c = cluster
    old_leader = LeaderElector(c.client, c.control_ns, "handoff-reconciler", "replica-a")
    assert old_leader.try_acquire_or_renew()
    elector = LeaderElector(c.client, c.control_ns, "handoff-reconciler", "replica-b")
    assert not elector.try_acquire_or_renew()  # standby
    rec = Reconciler(Settings(sources=(), namespace=c.control_ns, leader_election=False), c.client, c.workdir,
                     elector=elector)
    objects = SourceObjects(rec, namespace=c.target_ns, allow_private_hosts=True)
    c.client.create(source_object(c))  # prune: true (the default); replica-a stops before handling it
    objects.changed(get_source(c) or {})  # the standby's watch
    rec.drain()
    old_leader.release()
    assert elector.try_acquire_or_renew()  # the handover: replica-b leads now
    rec.drain()
    assert [r.ok for r in rec.run_once()] == [True]
    objects.changed(get_source(c) or {})  # its status write's event
    rec.drain()
    assert [r.ok for r in rec.run_once()] == [True]
    finalizers = ((get_source(c) or {}).get("metadata") or {}).get("finalizers") or []
    assert PRUNE_FINALIZER in finalizers, \
        (f"a Source whose spec prunes carries {PRUNE_FINALIZER} once a leader serves it, though it was "
         f"first handled while this replica was standby: finalizers={finalizers}")
