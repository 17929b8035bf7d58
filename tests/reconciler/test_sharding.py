from pathlib import Path

from handoff.kube.client import Connection, KubeClient
from handoff.kube.lease import shard_of
from handoff.reconciler.config import Settings, Source
from handoff.reconciler.loop import Reconciler


def test_each_source_belongs_to_exactly_one_shard(tmp_path: Path) -> None:
    sources = tuple(Source(name=f"app-{i}", url="file:///nowhere") for i in range(40))
    client = KubeClient(Connection(server="https://127.0.0.1:1"))
    owners = []
    for shard in range(3):
        rec = Reconciler(Settings(sources=sources, shards=3, shard=shard), client, tmp_path)
        owners.append({s.name for s in sources if rec.owns(s)})
    assert set.union(*owners) == {s.name for s in sources}
    assert sum(len(o) for o in owners) == len(sources)
    assert all(owners)  # 40 names spread over 3 shards: none is empty


def test_shard_is_stable_across_processes() -> None:
    assert shard_of("payments", 4) == shard_of("payments", 4) == 2  # crc32, not the salted hash()
