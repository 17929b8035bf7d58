"""atk14b: the roll-back on rejection (h14fix). What a rejected revision changed must be put back, also for
an object it adopted (it existed, unowned, before the pass) and for a rejection the API server reports as
a 5xx that no retry can cure (real kube-apiserver + etcd and git server)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from handoff.reconciler.config import Authority
from handoff.reconciler.objects import OWNER_LABEL

from .cluster import Cluster, new_cluster

pytestmark = [pytest.mark.tools, pytest.mark.slow]

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: app}}\ndata: {{rev: \"{rev}\"}}\n"


def _quota_with_room_for_one(c: Cluster) -> None:
    c.client.apply({"apiVersion": "v1", "kind": "ResourceQuota",
                    "metadata": {"name": "cms", "namespace": c.target_ns},
                    "spec": {"hard": {"count/configmaps": "9"}}})


def _publish_quota(c: Cluster, used: int) -> None:
    # no quota controller in the harness: publish the quota's status as it would (room for one more)
    c.client.request("PATCH", f"/api/v1/namespaces/{c.target_ns}/resourcequotas/cms/status",
                     body={"status": {"hard": {"count/configmaps": str(used + 1)},
                                      "used": {"count/configmaps": str(used)}}},
                     content_type="application/merge-patch+json")
    c.client.apply({"apiVersion": "v1", "kind": "ResourceQuota",
                    "metadata": {"name": "cms", "namespace": c.target_ns},
                    "spec": {"hard": {"count/configmaps": str(used + 1)}}})
    c.client.request("PATCH", f"/api/v1/namespaces/{c.target_ns}/resourcequotas/cms/status",
                     body={"status": {"hard": {"count/configmaps": str(used + 1)},
                                      "used": {"count/configmaps": str(used)}}},
                     content_type="application/merge-patch+json")


def test_a_rejected_revision_puts_back_an_object_it_adopted(apiserver: Any, git_server: Any,
                                                            tmp_path: Path) -> None:
    """An operator's ConfigMap (no owner label, not in the source) is named by a new revision, which is then
    rejected at apply (the second new ConfigMap exceeds the quota). The adopted ConfigMap was updated by the
    pass; the roll-back only puts back updated objects the previous revision rendered, so the operator's data
    is overwritten and the object carries the source's owner label: half-applied. (The operator's grant lets
    it adopt: ``test_adoption.py``.)"""
    c = new_cluster(apiserver, git_server, tmp_path, {"app/cm.yaml": CM.format(rev=1)})
    c.client.apply({"apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": {"name": "operator-settings", "namespace": c.target_ns},
                    "data": {"mode": "operator"}})
    _quota_with_room_for_one(c)
    rec = c.reconciler(renderer="plain", authority=Authority(namespaces=(c.target_ns,), adopt=True))
    source = rec.settings.sources[0]
    first = rec.reconcile(source)
    assert first.ok, first.message
    _publish_quota(c, used=2)  # app + operator-settings: room for one more
    extra = "".join(f"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: extra-{i}}}\ndata: {{a: b}}\n"
                    for i in range(2))
    c.repo.commit({"app/cm.yaml": CM.format(rev=2),
                   "app/op.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: operator-settings}\n"
                                  "data: {mode: repo}\n",
                   "app/zz-extra.yaml": extra}, "adopt the operator's ConfigMap; two more ConfigMaps")
    result = rec.reconcile(source)
    assert not result.ok and "extra-1" in result.message, result.message
    app = c.get("v1", "ConfigMap", "app")
    assert app is not None and app["data"]["rev"] == "1", result.message  # the fixed case holds
    op = c.get("v1", "ConfigMap", "operator-settings")
    assert op is not None
    assert op["data"] == {"mode": "operator"}, \
        f"half-applied: the rejected revision's change to an adopted object is live: {op['data']}"
    assert OWNER_LABEL not in (op["metadata"].get("labels") or {}), \
        f"a rejected revision left its owner label on an object it adopted: {op['metadata'].get('labels')}"


def _preserving_crd(group: str) -> dict[str, Any]:
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": f"blobs.{group}"},
            "spec": {"group": group, "scope": "Namespaced",
                     "names": {"plural": "blobs", "singular": "blob", "kind": "Blob"},
                     "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {
                         "type": "object", "properties": {"spec": {
                             "type": "object", "x-kubernetes-preserve-unknown-fields": True}}}}}]}}


def test_a_revision_whose_object_etcd_refuses_as_too_large_is_not_half_applied(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    """A 2 MB custom resource passes the server-side dry-run (nothing reaches etcd) and the API server's
    3 MB body limit, but etcd refuses the write (1.5 MiB request limit): a 5xx, which the loop treats as
    'API server unavailable, roll forward next pass'. Every later pass hits the same wall, so the
    revision's earlier changes stay live for good and the status never says it was not applied."""
    c = new_cluster(apiserver, git_server, tmp_path, {"app/cm.yaml": CM.format(rev=1)})
    group = f"{c.target_ns}.example.com"
    c.repo.commit({"app/blobs.yaml": yaml.safe_dump(_preserving_crd(group))}, "the Blob CRD")
    rec = c.reconciler(renderer="plain", authority=Authority(namespaces=(c.target_ns,),
                                                             cluster_kinds=("CustomResourceDefinition",)))
    source = rec.settings.sources[0]
    first = rec.reconcile(source)
    assert first.ok, first.message
    blob = f"apiVersion: {group}/v1\nkind: Blob\nmetadata: {{name: big}}\nspec: {{data: \"{'x' * 2_000_000}\"}}\n"
    c.repo.commit({"app/cm.yaml": CM.format(rev=2), "app/zz-blob.yaml": blob}, "a 2 MB custom resource")
    results = []
    for _ in range(3):
        try:
            results.append(rec.reconcile(source))
        except Exception as e:
            results.append(e)  # type: ignore[arg-type]
    cm = c.get("v1", "ConfigMap", "app")
    assert cm is not None
    blob_live = c.client.get(f"{group}/v1", "Blob", "big", c.target_ns)
    assert blob_live is not None or cm["data"]["rev"] == "1", \
        f"half-applied after 3 passes: ConfigMap rev={cm['data']['rev']}, Blob absent; results: " \
        f"{[getattr(r, 'message', r) for r in results]}"


def test_a_rejected_revision_that_made_a_configmap_immutable_is_rolled_back(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    """Revision 2 changes a ConfigMap's data and sets ``immutable: true`` (allowed on a mutable one), then
    the API server rejects a later object (quota). The roll-back re-applies revision 1's manifest, which the
    API server refuses (the data of an immutable ConfigMap cannot change): the rejected revision's data stays
    live, frozen, and the pass does not report the revision as not applied."""
    c = new_cluster(apiserver, git_server, tmp_path, {"app/cm.yaml": CM.format(rev=1)})
    _quota_with_room_for_one(c)
    rec = c.reconciler(renderer="plain")
    source = rec.settings.sources[0]
    first = rec.reconcile(source)
    assert first.ok, first.message
    _publish_quota(c, used=1)  # app: room for one more
    extra = "".join(f"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: extra-{i}}}\ndata: {{a: b}}\n"
                    for i in range(2))
    c.repo.commit({"app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\nimmutable: true\n"
                                  "data: {rev: \"2\"}\n",
                   "app/zz-extra.yaml": extra}, "freeze the ConfigMap; two more ConfigMaps")
    try:
        result: Any = rec.reconcile(source)
        message = f"{result.result}: {result.message}"
    except Exception as e:  # the roll-back's own failure may escape the pass
        message = f"raised {type(e).__name__}: {e}"
    app = c.get("v1", "ConfigMap", "app")
    assert app is not None
    assert app["data"]["rev"] == "1" and not app.get("immutable"), \
        f"half-applied: the rejected revision's ConfigMap (rev={app['data']['rev']}, immutable=" \
        f"{app.get('immutable')}) is live; pass: {message}"


def test_a_rejected_revision_puts_back_the_labels_of_the_namespace_it_adopted(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    """A grant that lets a source own its Namespace object and set its Pod Security labels
    (``namespaceMetadata``; the default grant refuses such a label before anything is applied). A revision
    that first names it, to lower its Pod Security level to privileged, and is then rejected at apply
    (quota), must leave the Namespace as it was: the previous revision had no manifest for it."""
    c = new_cluster(apiserver, git_server, tmp_path, {"app/cm.yaml": CM.format(rev=1)})
    _quota_with_room_for_one(c)
    rec = c.reconciler(renderer="plain", authority=Authority(
        namespaces=(c.target_ns,), cluster_kinds=("Namespace",),
        namespace_metadata=("pod-security.kubernetes.io/*",)))
    source = rec.settings.sources[0]
    first = rec.reconcile(source)
    assert first.ok, first.message
    _publish_quota(c, used=1)
    extra = "".join(f"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: extra-{i}}}\ndata: {{a: b}}\n"
                    for i in range(2))
    c.repo.commit({"app/ns.yaml": f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {c.target_ns}\n"
                                  "  labels: {pod-security.kubernetes.io/enforce: privileged}\n",
                   "app/zz-extra.yaml": extra}, "privileged namespace; two more ConfigMaps")
    result = rec.reconcile(source)
    assert not result.ok and "extra-1" in result.message, result.message
    ns = c.client.get("v1", "Namespace", c.target_ns)
    assert ns is not None
    labels = ns["metadata"].get("labels") or {}
    assert "pod-security.kubernetes.io/enforce" not in labels, \
        f"a rejected revision changed its Namespace's Pod Security level: {labels}"
