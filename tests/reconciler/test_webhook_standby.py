"""A webhook sent to a standby replica is handed to the leader: two reconcilers on the harness's real
kube-apiserver + etcd and git server, one holding the Lease; the standby answers 202 and sets the sync-now
annotation on the matching Source object, and the leader's watch runs the pass. A source with no object
to annotate (the config file's) still makes a standby answer 503."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from handoff.kube.lease import LeaderElector
from handoff.reconciler.config import Settings
from handoff.reconciler.loop import Reconciler
from handoff.reconciler.sourcecrd import REQUESTED_AT
from handoff.reconciler.sourceobjects import SourceObjects
from handoff.reconciler.webhook import Receiver, secret_file, serve

from .cluster import Cluster
from .test_source_crd_live import cluster as cluster  # noqa: PLC0414 (the fixture, shared)
from .test_source_crd_live import eventually, get_source, source_object
from .webhooks import encode, github_headers, github_push, post

pytestmark = [pytest.mark.tools, pytest.mark.slow]
SECRET = "standby-secret"
LEASE = "handoff-reconciler"


@dataclass
class Replica:
    rec: Reconciler
    objects: SourceObjects
    passes: list[str]
    port: int


@pytest.fixture
def replicas(cluster: Cluster, tmp_path: Path) -> Iterator[tuple[Replica, Replica]]:
    (tmp_path / "secret").write_text(SECRET)
    stop = threading.Event()
    made, threads, servers = [], [], []
    for identity in ("replica-a", "replica-b"):
        elector = LeaderElector(cluster.client, cluster.control_ns, LEASE, identity, lease_seconds=3600)
        elector.try_acquire_or_renew()  # a wins (the Lease is free), b stays a standby
        rec = Reconciler(Settings(sources=(cluster.source(name=f"file-{identity}", path="other",
                                                                 renderer="plain", interval=3600.0),),
                                  namespace=cluster.control_ns), cluster.client, tmp_path / identity,
                         elector=elector)
        passes: list[str] = []
        rec.after_pass.append(lambda s, r, passes=passes: passes.append(s.name))
        objects = SourceObjects(rec, allow_private_hosts=True)  # the git server: loopback
        objects.start(stop)
        server = serve(Receiver(rec, secret_file(tmp_path / "secret"), rec.metrics, handover=objects.hand_over),
                       "127.0.0.1:0")
        servers.append(server)
        loop = threading.Thread(target=rec.run, args=(stop,), kwargs={"tick": 0.2}, daemon=True)
        loop.start()
        threads.append(loop)
        made.append(Replica(rec, objects, passes, int(server.server_address[1])))
    try:
        assert made[0].rec.can_write() and not made[1].rec.can_write()
        yield made[0], made[1]
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=30)
        for s in servers:
            s.shutdown()
            s.server_close()


def _push(c: Cluster, after: str = "b" * 40) -> bytes:
    url = urlsplit(c.url)
    owner, _, repo = url.path.strip("/").removesuffix(".git").rpartition("/")
    return encode(github_push(owner, repo, after=after, host=url.netloc))


def test_a_standby_hands_a_webhook_to_the_leader_through_the_annotation(
        cluster: Cluster, replicas: tuple[Replica, Replica]) -> None:
    c = cluster
    leader, standby = replicas
    c.client.create(source_object(c, interval="1h"))
    name = f"{c.target_ns}/web"
    eventually(lambda: name in leader.passes and name in standby.objects.objects)
    first = len(leader.passes)
    body = _push(c)
    answer = post(standby.port, body, github_headers(SECRET, body))
    assert answer.status == 202, answer
    assert answer.body["handedOver"] is True and name in answer.body["sources"]
    requested = ((get_source(c) or {})["metadata"].get("annotations") or {}).get(REQUESTED_AT)
    assert requested
    # the leader's watch sees the annotation and runs the pass, and the status says which request
    eventually(lambda: leader.passes[first:].count(name) >= 1)
    eventually(lambda: (get_source(c) or {}).get("status", {}).get("lastHandledRequestedAt") == requested)
    assert name not in standby.passes  # the standby ran nothing
    triggered = standby.rec.metrics.registry.get_sample_value("handoff_webhook_triggered_total", {"source": name})
    assert triggered == 1


def test_a_standby_with_only_config_file_sources_matching_answers_503(
        cluster: Cluster, replicas: tuple[Replica, Replica]) -> None:
    _, standby = replicas
    body = _push(cluster)  # matches only the config-file sources (no Source object exists)
    answer = post(standby.port, body, github_headers(SECRET, body))
    assert answer.status == 503 and answer.body["reason"] == "standby"
    assert standby.passes == []

