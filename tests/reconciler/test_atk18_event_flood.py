"""atk18: Events per Source object stay bounded: a failure repeated pass after pass is one Event, its
count going up, however its message varies. Real kube-apiserver + etcd, git server and helm."""

from __future__ import annotations

import pytest

from handoff.reconciler.config import Settings
from handoff.reconciler.loop import Reconciler
from handoff.reconciler.sourceobjects import SourceObjects

from .cluster import Cluster
from .test_source_crd_live import cluster, source_object  # noqa: F401 - fixture

pytestmark = [pytest.mark.tools, pytest.mark.slow]

PASSES = 12


def test_a_failure_whose_message_varies_does_not_create_an_event_per_pass(cluster: Cluster) -> None:  # noqa: F811
    """A tenant's chart fails to render with a different message each time (``fail (randAlphaNum 16)``;
    in the wild: a timestamp, a port, curl's "after N ms"). A rejected revision is rendered again on every
    pass (loop.py ``_pass``), ``events.event_name`` is a digest of the message, so each pass creates a new
    Warning Event (and rewrites the status): at ``interval: 100ms``, the schema's minimum, that is ten
    Events a second per Source, in etcd for an hour each. client-go's EventCorrelator (what Flux's
    controllers record through) folds similar Events of one object (same reason, any message) into one
    aggregate after 10 and rate-limits them; here the count must at least not grow one per pass."""
    c = cluster
    c.repo.commit({"chart/Chart.yaml": "apiVersion: v2\nname: noisy\nversion: 0.1.0\n",
                   "chart/templates/cm.yaml": "{{ fail (randAlphaNum 16) }}\n"}, "a chart that always fails")
    rec = Reconciler(Settings(sources=(), namespace=c.control_ns, leader_election=False), c.client, c.workdir)
    objects = SourceObjects(rec, namespace=c.target_ns, allow_private_hosts=True)
    c.client.create(source_object(c, path="chart", renderer="helm"))
    objects.sources_watch.relist()
    rec.drain()
    messages = []
    for _ in range(PASSES):
        [result] = rec.run_once()
        assert not result.ok
        messages.append(result.message)
    assert len(set(messages)) == PASSES, messages  # the premise: the message differs each pass
    events = [e for e in c.client.list("v1", "Event", namespace=c.target_ns)
              if (e.get("involvedObject") or {}).get("name") == "web" and e.get("type") == "Warning"]
    assert len(events) <= PASSES // 2, f"{len(events)} Warning Events for {PASSES} passes of one failure"
