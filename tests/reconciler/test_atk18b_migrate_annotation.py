"""atk18b: a migrated Source takes over its config-file source only while it carries
``handoff.dev/migrated-from`` (0ec90bf, --hand-over-migrated). An annotation edit bumps no generation, and
``SourceObjects._changed`` takes such an event for "our own status write coming back"
(``_same_but_status`` compares uid, generation, requested-at and finalizers only), so it never re-reads the
annotation: removing it leaves the config-file source unserved; adding it to an existing Source never
takes over. Real kube-apiserver + etcd and git server."""

from __future__ import annotations

import base64

import pytest

from handoff.reconciler.migrate import CREDENTIALS_SECRET, MIGRATED_FROM, sources_to_crd
from handoff.reconciler.sourceobjects import SourceObjects
from handoff.report.model import ObjectRef

from .cluster import Cluster
from .test_source_crd_live import cluster, get_source  # noqa: F401 - fixture

pytestmark = [pytest.mark.tools, pytest.mark.slow]


def _served(objects: SourceObjects) -> set[str]:
    return {s.name for s in objects.reconciler.sources()}


def test_removing_the_migrated_from_annotation_hands_the_config_file_source_back(
        cluster: Cluster) -> None:  # noqa: F811
    c = cluster
    rec = c.reconciler(name="web")
    [obj] = sources_to_crd(rec.settings).objects
    c.client.apply({"apiVersion": "v1", "kind": "Secret",
                    "metadata": {"name": CREDENTIALS_SECRET, "namespace": c.target_ns},
                    "data": {"token": base64.b64encode(c.token_file.read_bytes()).decode(),
                             "username": base64.b64encode(c.username.encode()).decode()}})
    c.client.create(obj)
    objects = SourceObjects(rec, namespace=c.target_ns, allow_private_hosts=True, hand_over_migrated=True)
    objects.sources_watch.relist()
    rec.drain()
    assert "web" not in _served(objects)  # taken over, as 0ec90bf intends
    c.client.patch(ObjectRef("handoff.dev/v1", "Source", "web", c.target_ns),
                   {"metadata": {"annotations": {MIGRATED_FROM: None}}},
                   content_type="application/merge-patch+json")
    objects.changed(get_source(c) or {})  # the watch's MODIFIED event for the annotation edit
    objects._settle_takeovers()  # as _queue_then_settle does after each event
    rec.drain()
    assert f"{c.target_ns}/web" not in objects.migrated, \
        "the Source no longer says it was migrated from 'web', yet it still takes it over"
    assert "web" in _served(objects), \
        f"the config-file source stays unserved after the annotation is removed: {_served(objects)}"


def test_annotating_an_existing_source_as_migrated_takes_the_config_file_source_over(
        cluster: Cluster) -> None:  # noqa: F811
    c = cluster
    rec = c.reconciler(name="web")
    [obj] = sources_to_crd(rec.settings).objects
    c.client.apply({"apiVersion": "v1", "kind": "Secret",
                    "metadata": {"name": CREDENTIALS_SECRET, "namespace": c.target_ns},
                    "data": {"token": base64.b64encode(c.token_file.read_bytes()).decode(),
                             "username": base64.b64encode(c.username.encode()).decode()}})
    annotation = obj["metadata"]["annotations"][MIGRATED_FROM]
    bare = {**obj, "metadata": {k: v for k, v in obj["metadata"].items() if k != "annotations"}}
    c.client.create(bare)
    objects = SourceObjects(rec, namespace=c.target_ns, allow_private_hosts=True, hand_over_migrated=True)
    objects.sources_watch.relist()
    rec.drain()
    assert "web" in _served(objects)
    c.client.patch(ObjectRef("handoff.dev/v1", "Source", "web", c.target_ns),
                   {"metadata": {"annotations": {MIGRATED_FROM: annotation}}},
                   content_type="application/merge-patch+json")
    objects.changed(get_source(c) or {})
    objects._settle_takeovers()
    rec.drain()
    assert "web" not in _served(objects), \
        "`kubectl annotate source web handoff.dev/migrated-from=web` is never read: no takeover"
