"""atk18: a spec the API server accepts and that cannot work is Stalled with a reason naming the key,
never an "unexpected error" retried forever. Real kube-apiserver + etcd and git server."""

from __future__ import annotations

import pytest

from handoff.kube.client import KubeError
from handoff.reconciler.config import Settings
from handoff.reconciler.loop import Reconciler
from handoff.reconciler.sourceobjects import SourceObjects

from .cluster import Cluster
from .test_source_crd_live import cluster, ready, source_object  # noqa: F401 - fixture

pytestmark = [pytest.mark.tools, pytest.mark.slow]


def test_a_path_with_a_nul_byte_is_an_invalid_spec_not_an_internal_error(cluster: Cluster) -> None:  # noqa: F811
    """``spec.path`` has no pattern in the generated schema, so ``"app\\u0000"`` is stored; ``parse`` and
    ``config.Source`` accept it; the pass calls ``pathsafe.resolve_inside``, whose ``os`` calls raise
    ``ValueError: embedded null byte``, a bug to the loop: Ready=False reason InternalError, Reconciling
    (Retrying) on every backoff, a stack trace logged each time, never Stalled, the message naming no key."""
    c = cluster
    rec = Reconciler(Settings(sources=(), namespace=c.control_ns, leader_election=False), c.client, c.workdir)
    objects = SourceObjects(rec, namespace=c.target_ns, allow_private_hosts=True)
    # f18a: the schema now refuses it at admission (a pattern from the same Field the parser checks) ...
    with pytest.raises(KubeError) as refused:
        c.client.create(source_object(c, path="app\x00"))
    assert refused.value.status == 422 and "spec.path" in str(refused.value)
    # ... and an object stored under an older schema is refused by the parser: hand it over as the watch
    # would (the stored object, its path as the older schema let it be)
    stored = c.client.create(source_object(c))
    objects.changed({**stored, "spec": {**stored["spec"], "path": "app\x00"}})
    rec.drain()
    results = rec.run_once()
    assert all(r.error_kind != "bug" for r in results), [r.message for r in results]
    condition = ready(c)
    assert condition is not None and condition["status"] == "False", condition
    assert condition["reason"] != "InternalError" and "path" in condition["message"], condition
    stalled = next(x for x in (c.client.get("handoff.dev/v1", "Source", "web", c.target_ns) or {})["status"]
                   ["conditions"] if x["type"] == "Stalled")
    assert stalled["status"] == "True", stalled  # no later pass can fix it: a new spec can
