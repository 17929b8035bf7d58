"""atk18b: two threads hand a Source's versions to the loop. A Secret event makes ``secret_changed`` GET
the Source as it is now; the Sources watch delivers the versions before it afterwards, in order. A Source
edited (generation 2) while its Secret rotates is then served at generation 2, and then at generation 1
again by the watch's late MODIFIED event: ``_changed`` never compares the event's generation (nor
resourceVersion) with the one it already serves, so an older spec (here the old path; equally an old
``suspend: false`` or ``prune: true``) is served and applied until the watch catches up. Real
kube-apiserver + etcd and git server."""

from __future__ import annotations

import pytest

from handoff.reconciler.config import Settings
from handoff.reconciler.loop import Reconciler
from handoff.reconciler.sourceobjects import SourceObjects
from handoff.report.model import ObjectRef

from .cluster import Cluster
from .test_source_crd_live import cluster, get_source, source_object  # noqa: F401 - fixture

pytestmark = [pytest.mark.tools, pytest.mark.slow]


def test_an_older_version_delivered_after_a_newer_one_is_not_served(cluster: Cluster) -> None:  # noqa: F811
    c = cluster
    rec = Reconciler(Settings(sources=(), namespace=c.control_ns, leader_election=False), c.client, c.workdir)
    objects = SourceObjects(rec, namespace=c.target_ns, allow_private_hosts=True)
    c.client.create(source_object(c))
    objects.sources_watch.relist()
    rec.drain()
    assert [r.ok for r in rec.run_once()] == [True]
    old = get_source(c) or {}  # the version the watch is about to deliver (its MODIFIED for the status)
    c.client.patch(ObjectRef("handoff.dev/v1", "Source", "web", c.target_ns), {"spec": {"path": "other"}},
                   content_type="application/merge-patch+json")
    objects.secret_changed({"metadata": {"namespace": c.target_ns, "name": "git"}})  # GETs generation 2
    objects.changed(old)  # the Sources watch's event, queued before the edit's
    rec.drain()
    [served] = [s for s in rec.sources() if s.name == f"{c.target_ns}/web"]
    assert served.path == "other", \
        f"generation 2 was served, then generation 1's spec again (path {served.path!r})"
