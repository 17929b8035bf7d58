"""atk18b: a Secret deleted while a Source references it. The Source is Stalled (SecretNotFound), but the
token the deleted Secret held stays on the reconciler's disk (``workdir/.secrets/NS/NAME/token``):
``_stall`` never drops the files, only ``_gone`` does (``_drop_unused_secrets``). Deleting a Secret is how
a tenant revokes a credential; the reconciler keeps a copy of it for as long as it runs. Real
kube-apiserver + etcd and git server."""

from __future__ import annotations

import pytest

from handoff.reconciler.config import Settings
from handoff.reconciler.loop import Reconciler
from handoff.reconciler.sourceobjects import SourceObjects

from .cluster import Cluster
from .test_source_crd_live import cluster, ready, source_object  # noqa: F401 - fixture

pytestmark = [pytest.mark.tools, pytest.mark.slow]


def test_a_deleted_secrets_token_does_not_stay_on_the_reconcilers_disk(cluster: Cluster) -> None:  # noqa: F811
    c = cluster
    rec = Reconciler(Settings(sources=(), namespace=c.control_ns, leader_election=False), c.client, c.workdir)
    objects = SourceObjects(rec, namespace=c.target_ns, allow_private_hosts=True)
    c.client.create(source_object(c))
    objects.sources_watch.relist()
    rec.drain()
    assert [r.ok for r in rec.run_once()] == [True]
    token = c.workdir / ".secrets" / c.target_ns / "git" / "token"
    assert token.read_bytes() == c.token_file.read_bytes()
    c.client.delete("v1", "Secret", "git", c.target_ns)
    objects.secret_changed({"metadata": {"namespace": c.target_ns, "name": "git"}})  # the watch's DELETED
    rec.drain()
    condition = ready(c)
    assert condition is not None and condition["reason"] == "SecretNotFound", condition
    assert not token.exists(), f"the deleted Secret's token is still on disk at {token}"
