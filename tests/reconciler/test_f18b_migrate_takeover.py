"""A Source object printed by ``sources-to-crd`` (annotated ``handoff.dev/migrated-from``) takes over the
config-file source it came from only while it mirrors it, and hands it back when deleted. Real
kube-apiserver + etcd and git server."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from handoff.reconciler.loop import Reconciler
from handoff.reconciler.migrate import CREDENTIALS_SECRET, MIGRATED_FROM, sources_to_crd
from handoff.reconciler.sourcecrd import API_VERSION, KIND
from handoff.reconciler.sourceobjects import SourceObjects

from .cluster import Cluster
from .test_source_crd_live import cluster  # noqa: F401 - fixture

pytestmark = [pytest.mark.tools, pytest.mark.slow]


def _migrated(c: Cluster, rec: Reconciler) -> dict[str, Any]:
    [obj] = sources_to_crd(rec.settings).objects
    assert obj["metadata"]["annotations"] == {MIGRATED_FROM: "web"}
    c.client.apply({"apiVersion": "v1", "kind": "Secret",
                    "metadata": {"name": CREDENTIALS_SECRET, "namespace": c.target_ns},
                    "data": {"token": base64.b64encode(c.token_file.read_bytes()).decode(),
                             "username": base64.b64encode(c.username.encode()).decode()}})
    return obj


def _served(rec: Reconciler) -> set[str]:
    return {s.name for s in rec.sources()}


def test_the_migrated_source_takes_over_and_hands_back_when_deleted(cluster: Cluster) -> None:  # noqa: F811
    c = cluster
    rec = c.reconciler(name="web", prune=False)  # the object mirrors prune too (migrate.takes_over)
    obj = _migrated(c, rec)
    c.client.create({**obj, "spec": {**obj["spec"], "prune": False}})
    objects = SourceObjects(rec, namespace=c.target_ns, allow_private_hosts=True, hand_over_migrated=True)
    objects.sources_watch.relist()
    rec.drain()
    assert _served(rec) == {f"{c.target_ns}/web"}  # the config-file source steps aside
    c.client.delete(API_VERSION, KIND, "web", c.target_ns)
    objects.sources_watch.relist()
    rec.drain()
    assert _served(rec) == {"web"}  # and is served again once no object takes it over


def test_without_the_operators_opt_in_a_mirroring_source_takes_nothing_over(cluster: Cluster) -> None:  # noqa: F811
    """Whoever may create Sources in a namespace could otherwise copy an operator's config-file source
    (url, ref, path) and take it out of service, its authority and verification with it."""
    c = cluster
    rec = c.reconciler(name="web")
    obj = _migrated(c, rec)
    c.client.create(obj)
    objects = SourceObjects(rec, namespace=c.target_ns, allow_private_hosts=True)  # no --hand-over-migrated
    objects.sources_watch.relist()
    rec.drain()
    assert "web" in _served(rec)


def test_an_annotated_source_that_does_not_mirror_its_config_source_takes_nothing_over(
        cluster: Cluster) -> None:  # noqa: F811
    c = cluster
    rec = c.reconciler(name="web")
    obj = _migrated(c, rec)
    c.client.create({**obj, "spec": {**obj["spec"], "path": "other"}})  # not what the config source applies
    objects = SourceObjects(rec, namespace=c.target_ns, allow_private_hosts=True, hand_over_migrated=True)
    objects.sources_watch.relist()
    rec.drain()
    assert _served(rec) == {"web", f"{c.target_ns}/web"}


def test_a_suspended_migrated_source_hands_the_config_source_back(cluster: Cluster) -> None:  # noqa: F811
    c = cluster
    rec = c.reconciler(name="web")
    obj = _migrated(c, rec)
    c.client.create({**obj, "spec": {**obj["spec"], "prune": False, "suspend": True}})
    objects = SourceObjects(rec, namespace=c.target_ns, allow_private_hosts=True, hand_over_migrated=True)
    objects.sources_watch.relist()
    rec.drain()
    assert _served(rec) == {"web"}  # nothing would serve the objects otherwise


def test_a_migrated_source_that_cannot_be_served_takes_nothing_over(cluster: Cluster) -> None:  # noqa: F811
    c = cluster
    rec = c.reconciler(name="web")
    obj = _migrated(c, rec)
    c.client.create({**obj, "spec": {**obj["spec"], "secretRef": {"name": "not-there"}}})  # Stalled
    objects = SourceObjects(rec, namespace=c.target_ns, allow_private_hosts=True, hand_over_migrated=True)
    objects.sources_watch.relist()
    rec.drain()
    assert _served(rec) == {"web"}
