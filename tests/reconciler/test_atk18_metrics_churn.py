"""atk18: per-source metrics are "per source object": a deleted Source leaves no series behind. Real
kube-apiserver + etcd and git server."""

from __future__ import annotations

import pytest

from handoff.reconciler.config import Settings
from handoff.reconciler.loop import Reconciler
from handoff.reconciler.sourcecrd import API_VERSION, KIND
from handoff.reconciler.sourceobjects import SourceObjects

from .cluster import Cluster
from .test_source_crd_live import cluster, source_object  # noqa: F401 - fixture

pytestmark = [pytest.mark.tools, pytest.mark.slow]


def test_a_deleted_source_leaves_no_metric_series(cluster: Cluster) -> None:  # noqa: F811
    """Tenants create and delete Source objects at will; every name served adds a
    ``handoff_reconcile_duration_seconds`` histogram (a series per bucket), a last-success gauge and counters
    labelled ``source=NS/NAME``. ``Reconciler.drop_source`` (loop.py) forgets the source everywhere but in
    the metrics: after the Source is deleted, ``/metrics`` still reports it (a last-success timestamp that
    only ages, so a staleness alert fires forever for a source that no longer exists), and the series
    grow without bound with churn (memory, scrape size)."""
    c = cluster
    rec = Reconciler(Settings(sources=(), namespace=c.control_ns, leader_election=False), c.client, c.workdir)
    objects = SourceObjects(rec, namespace=c.target_ns, allow_private_hosts=True)
    c.client.create(source_object(c, "short-lived", prune=False))
    objects.sources_watch.relist()
    rec.drain()
    assert [r.ok for r in rec.run_once()] == [True]
    name = f"{c.target_ns}/short-lived"
    assert f'source="{name}"' in rec.metrics.exposition().decode()
    c.client.delete(API_VERSION, KIND, "short-lived", c.target_ns)
    objects.sources_watch.relist()
    rec.drain()
    assert name not in {s.name for s in rec.sources()}
    left = [line for line in rec.metrics.exposition().decode().splitlines() if f'source="{name}"' in line]
    assert left == [], f"{len(left)} metric series of a deleted Source, e.g. {left[:3]}"
