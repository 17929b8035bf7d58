"""atk18: the reconciler's memory does not grow with Secrets no Source names (issue 18's target: peak RSS
under 150 MiB for 500 sources). Real kube-apiserver + etcd; memory measured with tracemalloc (allocations,
not time)."""

from __future__ import annotations

import base64
import os
import tracemalloc
import uuid

import pytest

from handoff.reconciler.config import Settings
from handoff.reconciler.loop import Reconciler
from handoff.reconciler.sourceobjects import SourceObjects

from .cluster import Cluster
from .test_source_crd_live import cluster  # noqa: F401 - fixture

pytestmark = [pytest.mark.tools, pytest.mark.slow]

SECRETS, SIZE = 24, 700 * 1024  # a cluster with helm releases: each release revision is a Secret near 1 MiB
MiB = 1024 * 1024


def test_relisting_secrets_does_not_hold_every_unrelated_secrets_data(cluster: Cluster) -> None:  # noqa: F811
    """A cluster-wide reconciler (``--sources-from both``) watches Secrets to notice a Source's credentials
    change. Its relist (at start, after every 410 or broken stream) fetches every Secret in the cluster
    *with its data* (``KubeClient.list_at_version`` accumulates all pages, ``ListWatch.relist`` then queues
    each full object for the loop), although it only ever needs the names of the few Secrets Sources
    reference. 24 unrelated Secrets of 700 KiB make the relist hold tens of MiB at once; a real cluster's
    helm release Secrets make it hundreds, past the 150 MiB target, on every relist."""
    c = cluster
    unrelated = f"unrelated-{uuid.uuid4().hex[:6]}"
    c.client.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": unrelated}})
    for i in range(SECRETS):
        c.client.create({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": f"sh.helm.release.v1.app.v{i}",
                         "namespace": unrelated}, "data": {"release": base64.b64encode(os.urandom(SIZE)).decode()}})
    rec = Reconciler(Settings(sources=(), namespace=c.control_ns, leader_election=False), c.client, c.workdir)
    objects = SourceObjects(rec, allow_private_hosts=True)  # cluster-wide: every namespace's Sources
    tracemalloc.start()
    try:
        objects.secrets_watch.relist()
        rec.drain()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert objects.secrets_watch.relists == 1
    assert peak < 8 * MiB, (f"a Secrets relist peaked at {peak / MiB:.0f} MiB for {SECRETS} Secrets no Source "
                            f"names ({SECRETS * SIZE / MiB:.0f} MiB of data): it should need their names only")
