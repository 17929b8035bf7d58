"""atk18b: a Source's Events quote tenant text through ``status.clip``, whose ``printable`` escapes C0/C1
only: a U+202E in a tenant's object name reaches ``kubectl get events`` / ``describe`` and reverses the
rest of the line on the operator's terminal (a newline in the name is folded before, and holds). Real
kube-apiserver + etcd and git server."""

from __future__ import annotations

import uuid

import pytest

from handoff.reconciler.config import Settings
from handoff.reconciler.loop import Reconciler
from handoff.reconciler.sourceobjects import SourceObjects

from .cluster import Cluster
from .test_source_crd_live import cluster, source_object  # noqa: F401 - fixture

pytestmark = [pytest.mark.tools, pytest.mark.slow]


def test_a_tenants_bidi_override_stays_out_of_the_sources_events(cluster: Cluster) -> None:  # noqa: F811
    c = cluster
    other = f"team-b-{uuid.uuid4().hex[:6]}"
    c.client.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": other}})
    c.repo.commit({"nl/cm.yaml": 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: "x\\n0s   Normal   '
                                 'ReconciliationSucceeded   source/web   all good\\u202e", '
                                 f'namespace: {other}}}\ndata: {{a: b}}\n'}, "reach into team-b")
    rec = Reconciler(Settings(sources=(), namespace=c.control_ns, leader_election=False), c.client, c.workdir)
    objects = SourceObjects(rec, namespace=c.target_ns, allow_private_hosts=True)
    c.client.create(source_object(c, path="nl"))
    objects.sources_watch.relist()
    rec.drain()
    assert [r.ok for r in rec.run_once()] == [False]
    messages = [str(e.get("message")) for e in c.client.list("v1", "Event", namespace=c.target_ns)
                if (e.get("involvedObject") or {}).get("kind") == "Source"]
    assert messages, "no Event on the Source"
    assert not any("\n" in m for m in messages), messages  # holds: the loop's message folds the name's newline
    for m in messages:
        assert "\u202e" not in m, f"an Event carries a tenant's bidi override: {m!r}"
