"""The Secrets watch hands over names, never data: a metadata-only list and watch
(``PartialObjectMetadata``), so what the reconciler holds is bounded by the Secrets Sources name (it GETs
those). Real kube-apiserver + etcd."""

from __future__ import annotations

import base64
import threading
from typing import Any

import pytest

from handoff.reconciler.watch import ListWatch

from .cluster import Cluster
from .test_source_crd_live import cluster  # noqa: F401 - fixture

pytestmark = [pytest.mark.tools, pytest.mark.slow]


def _secret(c: Cluster, name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": c.target_ns},
            "data": {"token": base64.b64encode(b"s3cr3t-value").decode()}}


def test_a_metadata_only_watch_of_secrets_lists_and_watches_names_without_data(
        cluster: Cluster) -> None:  # noqa: F811
    c = cluster
    c.client.create(_secret(c, "listed"))
    seen: list[dict[str, Any]] = []
    watch = ListWatch(c.client, "v1", "Secret", namespace=c.target_ns, metadata_only=True, watch_seconds=1,
                      on_change=seen.append, on_delete=seen.append)
    version = watch.relist()
    c.client.create(_secret(c, "watched"))
    watch.watch_once(version, threading.Event())
    names = {(o.get("metadata") or {}).get("name") for o in seen}
    assert {"listed", "watched"} <= names
    assert all("data" not in o for o in seen), seen
    assert "s3cr3t" not in repr(seen)
