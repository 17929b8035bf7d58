"""The Secrets watch hands over names, never data: a metadata-only list and watch
(``PartialObjectMetadata``), so what the reconciler holds is bounded by the Secrets Sources name (it GETs
those). Real kube-apiserver + etcd."""

from __future__ import annotations

import base64
import threading
import tracemalloc
from typing import Any

import pytest

from handoff.reconciler.config import Settings
from handoff.reconciler.loop import Reconciler
from handoff.reconciler.sourceobjects import SourceObjects
from handoff.reconciler.watch import ListWatch

from .cluster import Cluster
from .test_source_crd_live import cluster  # noqa: F401 - fixture

pytestmark = [pytest.mark.tools, pytest.mark.slow]


def _secret(c: Cluster, name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": c.target_ns},
            "data": {"token": base64.b64encode(b"s3cr3t-value").decode()}}


def test_a_metadata_only_watch_of_secrets_lists_and_watches_names_without_data(
        cluster: Cluster) -> None:  # noqa: F811
    c = cluster
    c.client.create(_secret(c, "listed"))
    seen: list[dict[str, Any]] = []
    watch = ListWatch(c.client, "v1", "Secret", namespace=c.target_ns, metadata_only=True, watch_seconds=1,
                      on_change=seen.append, on_delete=seen.append)
    version = watch.relist()
    c.client.create(_secret(c, "watched"))
    watch.watch_once(version, threading.Event())
    names = {(o.get("metadata") or {}).get("name") for o in seen}
    assert {"listed", "watched"} <= names
    assert all("data" not in o for o in seen), seen
    assert "s3cr3t" not in repr(seen)


def test_the_secrets_queued_for_the_loop_are_names_not_their_metadata(cluster: Cluster) -> None:  # noqa: F811
    """``kubectl apply`` keeps a Secret's whole manifest, data included, in the
    ``last-applied-configuration`` annotation: metadata only is not small enough to queue. What waits in
    the loop's inbox after a relist is each Secret's namespace and name."""
    c = cluster
    for i in range(12):
        c.client.create({**_secret(c, f"applied-{i}"), "metadata": {
            "name": f"applied-{i}", "namespace": c.target_ns,
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "x" * 200_000}}})
    rec = Reconciler(Settings(sources=(), namespace=c.control_ns, leader_election=False), c.client, c.workdir)
    objects = SourceObjects(rec, namespace=c.target_ns, allow_private_hosts=True)
    tracemalloc.start()
    try:
        objects.secrets_watch.relist()
        held, _ = tracemalloc.get_traced_memory()  # what the relist left behind: the queued work
    finally:
        tracemalloc.stop()
    rec.drain()
    assert rec.inbox.empty()
    assert held < 1024 * 1024, f"{held / 1024:.0f} KiB queued for 12 Secrets no Source names"
