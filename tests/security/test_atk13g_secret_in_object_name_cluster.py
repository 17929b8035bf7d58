"""atk13g: a Secret value stamped into another object's name reaches the reconciler's Events and status
ConfigMap in clear (cluster side of atk13f finding 2).

atk13f's fix masks the drift *log line* (``handoff/reconciler/loop.py`` ``_log_drift``), but the pass's object
identities go unmasked into ``handoff/reconciler/events.py`` ``pass_events`` (``DriftReverted``/``DriftDetected``
and ``Pruned`` messages name ``str(ref)``) and ``handoff/reconciler/status.py`` ``status_data`` (``drift.objects
[].object``, ``prune.deleted``/``prune.kept``). Only ``PassResult.message`` goes through ``scrub``. Events are
readable by whoever may ``get events`` in the namespace (tenants), the status ConfigMap by whoever reads the
control namespace. What should hold: the Secret's value (raw, base64, base32, hex) is found in no Event and no
status ConfigMap, whatever field of the pass carries it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from handoff.reconciler.config import Settings
from handoff.reconciler.loop import Reconciler
from handoff.reconciler.sourceobjects import SourceObjects
from handoff.report.model import ObjectRef
from tests.harness.tools import require_tool
from tests.reconciler.cluster import Cluster, new_cluster
from tests.reconciler.test_source_crd_live import cluster, get_source, source_object  # noqa: F401 (fixture)
from tests.security.leaks import leaks

pytestmark = pytest.mark.tools

PASSWORD = "s3cretvalueatk13g"
SECRET = f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: {PASSWORD}\n"
CM = f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg-{PASSWORD}\ndata:\n  mode: a\n"


def _cluster_texts(c: Cluster) -> dict[str, str]:
    texts: dict[str, str] = {}
    for ns in (c.control_ns, c.target_ns):
        for e in c.client.list("v1", "Event", namespace=ns):
            texts[f"Event {ns}/{e['metadata']['name']}"] = json.dumps({k: e.get(k) for k in ("message", "reason")})
        for cm in c.client.list("v1", "ConfigMap", namespace=ns):
            if cm["metadata"]["name"].startswith("handoff-status"):
                texts[f"status ConfigMap {ns}/{cm['metadata']['name']}"] = json.dumps(cm.get("data"))
    return texts


def test_drift_events_and_status_mask_an_object_name_carrying_a_secret_value(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    require_tool("kustomize")
    c = new_cluster(apiserver, git_server, tmp_path, {
        "app/kustomization.yaml": "resources: [secret.yaml, cm.yaml]\n", "app/secret.yaml": SECRET,
        "app/cm.yaml": CM})
    rec = c.reconciler()
    source = rec.settings.sources[0]
    assert rec.reconcile(source).ok
    c.client.patch(ObjectRef("v1", "ConfigMap", f"cfg-{PASSWORD}", c.target_ns), {"data": {"mode": "b"}},
                   content_type="application/merge-patch+json", params={"fieldManager": "intruder"})
    assert rec.reconcile(source).drift
    texts = _cluster_texts(c)
    assert any(k.startswith("Event") and "drift" in v.lower() for k, v in texts.items()), texts
    found = leaks(texts, [PASSWORD])
    assert found == [], ("a drifted ConfigMap named after a Secret's value is named in clear in "
                         f"{sorted({(w, f) for w, _, f in found})}")


def test_prune_events_and_status_mask_an_object_name_carrying_a_secret_value(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    require_tool("kustomize")
    c = new_cluster(apiserver, git_server, tmp_path, {
        "app/kustomization.yaml": "resources: [secret.yaml, cm.yaml]\n", "app/secret.yaml": SECRET,
        "app/cm.yaml": CM})
    rec = c.reconciler()
    source = rec.settings.sources[0]
    assert rec.reconcile(source).ok
    c.repo.commit({"app/cm.yaml": None, "app/kustomization.yaml": "resources: [secret.yaml]\n"}, "drop the cm")
    result = rec.reconcile(source)
    assert result.ok and result.pruned, result
    texts = _cluster_texts(c)
    found = leaks(texts, [PASSWORD])
    assert found == [], ("a pruned ConfigMap named after a Secret's value (the Secret still applied) is named in "
                         f"clear in {sorted({(w, f) for w, _, f in found})}")


def test_a_source_objects_drift_events_and_status_mask_an_object_name_carrying_a_secret_value(
        cluster: Cluster) -> None:  # noqa: F811
    """The same through a Source object: its ``DriftReverted`` Event (``events.py`` ``pass_events``) and its
    ``status`` are what a tenant reads with ``kubectl describe``."""
    c = cluster
    c.repo.commit({"app/secret.yaml": SECRET, "app/cm.yaml": CM}, "a ConfigMap named after the Secret's value")
    rec = Reconciler(Settings(sources=(), namespace=c.control_ns, leader_election=False), c.client, c.workdir)
    objects = SourceObjects(rec, namespace=c.target_ns, allow_private_hosts=True)
    c.client.create(source_object(c))
    objects.sources_watch.relist()
    rec.drain()
    [first] = rec.run_once()
    assert first.ok, first.message
    c.client.patch(ObjectRef("v1", "ConfigMap", f"cfg-{PASSWORD}", c.target_ns), {"data": {"mode": "b"}},
                   content_type="application/merge-patch+json", params={"fieldManager": "intruder"})
    [second] = rec.run_once()
    assert second.drift, second
    texts = _cluster_texts(c)
    texts["Source status"] = json.dumps((get_source(c) or {}).get("status"))
    assert any(k.startswith("Event") and "drift" in v.lower() for k, v in texts.items()), texts
    found = leaks(texts, [PASSWORD])
    assert found == [], ("a drifted ConfigMap named after a Secret's value is named in clear in a Source "
                         f"object's Events or status: {sorted({(w, f) for w, _, f in found})}")


def test_drift_status_masks_a_data_key_carrying_a_secret_value(apiserver: Any, git_server: Any,
                                                               tmp_path: Path) -> None:
    """The drifted field's *path* (``data.<key>``) is the same identity: the drift log masks it
    (``loop.py`` ``_log_drift``), the status ConfigMap's ``drift.objects[].fields[].path`` does not."""
    require_tool("kustomize")
    keyed = f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  {PASSWORD}: a\n"
    c = new_cluster(apiserver, git_server, tmp_path, {
        "app/kustomization.yaml": "resources: [secret.yaml, cm.yaml]\n", "app/secret.yaml": SECRET,
        "app/cm.yaml": keyed})
    rec = c.reconciler()
    source = rec.settings.sources[0]
    assert rec.reconcile(source).ok
    c.client.patch(ObjectRef("v1", "ConfigMap", "cfg", c.target_ns), {"data": {PASSWORD: "b"}},
                   content_type="application/merge-patch+json", params={"fieldManager": "intruder"})
    assert rec.reconcile(source).drift
    found = leaks(_cluster_texts(c), [PASSWORD])
    assert found == [], ("a drifted ConfigMap data key equal to a Secret's value is shown in clear in "
                         f"{sorted({(w, f) for w, _, f in found})}")
