"""atk18f: docs/reconciler.md (upgrade, step 3): "deleting ... the object ... hands the config-file source
back". The object printed by ``sources-to-crd`` mirrors the config-file source, ``prune: true`` included
(the config-file default), so it carries the prune finalizer. Deleting it (rolling the migration back:
``kubectl delete -f sources.yaml``) runs its finalizer's prune inside the event's handler; the config-file
source it took over is served again only by ``_settle_takeovers``, queued after that handler, so at the
moment of the prune no source "declares now" what the config-file source declares: its objects are
deleted (and re-created by its next pass, with new uids). Real kube-apiserver + etcd and git server."""

from __future__ import annotations

import base64

import pytest

from handoff.reconciler.migrate import CREDENTIALS_SECRET, sources_to_crd
from handoff.reconciler.sourcecrd import API_VERSION, KIND, PRUNE_FINALIZER
from handoff.reconciler.sourceobjects import SourceObjects

from .cluster import Cluster
from .test_source_crd_live import cluster, get_source  # noqa: F401 - fixture

pytestmark = [pytest.mark.tools, pytest.mark.slow]


def test_deleting_a_migrated_source_hands_back_without_pruning_the_config_sources_objects(
        cluster: Cluster) -> None:  # noqa: F811
    c = cluster
    rec = c.reconciler(name="web")  # prune: true, the default
    assert [r.ok for r in rec.run_once()] == [True]
    before = (c.get("v1", "ConfigMap", "one") or {})["metadata"]["uid"]
    [obj] = sources_to_crd(rec.settings).objects
    c.client.apply({"apiVersion": "v1", "kind": "Secret",
                    "metadata": {"name": CREDENTIALS_SECRET, "namespace": c.target_ns},
                    "data": {"token": base64.b64encode(c.token_file.read_bytes()).decode(),
                             "username": base64.b64encode(c.username.encode()).decode()}})
    c.client.create(obj)  # step 3, as printed
    objects = SourceObjects(rec, namespace=c.target_ns, allow_private_hosts=True, hand_over_migrated=True)
    objects.sources_watch.relist()
    rec.drain()
    assert {s.name for s in rec.sources()} == {f"{c.target_ns}/web"}  # took over (the control)
    assert all(r.ok for r in rec.run_once())
    objects.sources_watch.relist()
    rec.drain()
    assert PRUNE_FINALIZER in ((get_source(c) or {}).get("metadata") or {}).get("finalizers", [])

    c.client.delete(API_VERSION, KIND, "web", c.target_ns)  # the migration rolled back
    deleting = get_source(c)
    assert deleting is not None
    objects._queue_then_settle(objects.changed, deleting)  # the watch's MODIFIED (deletionTimestamp), as
    rec.drain()  # the Sources watch hands it over
    assert "web" in {s.name for s in rec.sources()}  # handed back
    after = c.get("v1", "ConfigMap", "one")
    assert after is not None and after["metadata"]["uid"] == before, \
        ("deleting a migrated Source hands the config-file source back; its finalizer must not prune what that "
         "source declares: ConfigMap one was "
         f"{'deleted' if after is None else 're-created with a new uid'}")
