"""f18e: the observedGeneration a Source's status is written with is never above its metadata.generation,
whatever a stored status claimed (a restart's first serve of a Source whose status someone edited).
Real kube-apiserver + etcd and git server."""

from __future__ import annotations

import pytest

from handoff.reconciler.config import Settings
from handoff.reconciler.loop import Reconciler
from handoff.reconciler.sourcecrd import API_VERSION, KIND
from handoff.reconciler.sourceobjects import SourceObjects

from .cluster import Cluster
from .test_source_crd_live import cluster, get_source, source_object  # noqa: F401 - fixture

pytestmark = [pytest.mark.tools, pytest.mark.slow]


def test_a_first_serve_never_keeps_an_observed_generation_ahead_of_the_object(cluster: Cluster) -> None:  # noqa: F811
    c = cluster
    c.client.create(source_object(c, interval="1h"))
    path = c.client.resource(API_VERSION, KIND).path(c.target_ns, "web") + "/status"
    c.client.request("PATCH", path, body={"status": {"observedGeneration": 99}},
                     content_type="application/merge-patch+json")
    rec = Reconciler(Settings(sources=(), namespace=c.control_ns, leader_election=False), c.client, c.workdir)
    objects = SourceObjects(rec, namespace=c.target_ns, allow_private_hosts=True)  # a restarted process
    objects.sources_watch.relist()
    rec.drain()
    now = get_source(c) or {}
    status = now.get("status") or {}
    ready = next((x for x in status.get("conditions") or () if x["type"] == "Ready"), {})
    assert status.get("observedGeneration") == 0, status
    assert ready.get("status") == "Unknown", ready
    assert now["metadata"]["generation"] == 1
