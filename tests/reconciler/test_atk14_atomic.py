"""atk14: half-applied revisions. The preflight dry-runs objects of a Namespace the revision adds in a
scratch namespace; admission that depends on the real namespace's contents (a LimitRange the same revision
puts there) then rejects an object only at the real apply (real kube-apiserver + etcd and git server)."""

from __future__ import annotations

import contextlib
import uuid
from pathlib import Path
from typing import Any

import pytest

from handoff.reconciler.config import Authority

from .cluster import new_cluster

pytestmark = [pytest.mark.tools, pytest.mark.slow]

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: app}}\ndata: {{rev: \"{rev}\"}}\n"


def _gone(obj: dict[str, Any] | None) -> bool:
    return obj is None or bool(obj["metadata"].get("deletionTimestamp"))


def _new_namespace_with_a_limit(ns: str) -> str:
    return f"""apiVersion: v1
kind: Namespace
metadata: {{name: {ns}}}
---
apiVersion: v1
kind: LimitRange
metadata: {{name: storage-cap, namespace: {ns}}}
spec:
  limits:
    - type: PersistentVolumeClaim
      max: {{storage: 1Gi}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {{name: data, namespace: {ns}}}
spec:
  accessModes: [ReadWriteOnce]
  resources: {{requests: {{storage: 5Gi}}}}
"""


def test_a_revision_rejected_by_a_limitrange_it_adds_leaves_nothing_applied(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    c = new_cluster(apiserver, git_server, tmp_path, {"app/cm.yaml": CM.format(rev=1)})
    new_ns = f"atk14-{uuid.uuid4().hex[:6]}"
    rec = c.reconciler(renderer="plain", authority=Authority(namespaces=(c.target_ns, new_ns),
                                                             cluster_kinds=("Namespace",)))
    source = rec.settings.sources[0]
    first = rec.reconcile(source)
    assert first.ok, first.message
    live_revision = c.status()["lastAppliedRevision"]

    # the ConfigMap (same apply rank as the PVC, rendered first) is applied before the PVC is rejected
    c.repo.commit({"app/cm.yaml": CM.format(rev=2), "app/zz-data.yaml": _new_namespace_with_a_limit(new_ns)},
                  "a PVC over the LimitRange of the namespace this revision adds")
    result = rec.reconcile(source)
    try:
        assert not result.ok, result.message
        cm = c.get("v1", "ConfigMap", "app")
        assert cm is not None and cm["data"]["rev"] == "1", \
            f"half-applied: the ConfigMap change of a rejected revision is live ({result.message})"
        # deleted: gone, or Terminating (this harness runs no namespace controller to finish the deletion)
        assert _gone(c.client.get("v1", "Namespace", new_ns)), \
            f"a rejected revision left its Namespace behind ({result.message})"
        assert c.client.get("v1", "LimitRange", "storage-cap", new_ns) is None
        assert c.status()["lastAppliedRevision"] == live_revision
    finally:
        with contextlib.suppress(Exception):  # cleanup only
            c.client.delete("v1", "Namespace", new_ns)


def test_a_revision_with_an_invalid_name_in_a_namespace_it_adds_leaves_nothing_applied(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    """A Service name longer than 63 characters is invalid. In a namespace the revision adds, the preflight
    dry-runs it under a generated name cut to 40 characters, so only the real apply sees the bad name."""
    c = new_cluster(apiserver, git_server, tmp_path, {"app/cm.yaml": CM.format(rev=1)})
    new_ns = f"atk14-{uuid.uuid4().hex[:6]}"
    rec = c.reconciler(renderer="plain", authority=Authority(namespaces=(c.target_ns, new_ns),
                                                             cluster_kinds=("Namespace",)))
    source = rec.settings.sources[0]
    assert rec.reconcile(source).ok
    long_name = "web-" + "x" * 70
    c.repo.commit({"app/cm.yaml": CM.format(rev=2), "app/zz-svc.yaml": f"""apiVersion: v1
kind: Namespace
metadata: {{name: {new_ns}}}
---
apiVersion: v1
kind: Service
metadata: {{name: {long_name}, namespace: {new_ns}}}
spec:
  selector: {{app: web}}
  ports: [{{port: 80}}]
"""}, "a Service name the API server rejects, in a new namespace")
    result = rec.reconcile(source)
    try:
        assert not result.ok, result.message
        assert "rejected by the API server" in result.message, \
            f"the preflight did not catch it; the apply did: {result.message}"
        cm = c.get("v1", "ConfigMap", "app")
        assert cm is not None and cm["data"]["rev"] == "1", \
            f"half-applied: the ConfigMap change of a rejected revision is live ({result.message})"
        assert c.client.get("v1", "Namespace", new_ns) is None, \
            f"a rejected revision left its Namespace behind ({result.message})"
    finally:
        with contextlib.suppress(Exception):  # cleanup only
            c.client.delete("v1", "Namespace", new_ns)


def test_a_revision_over_the_namespaces_resourcequota_in_total_leaves_nothing_applied(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    """A ResourceQuota in the source's namespace allows one more ConfigMap; the revision adds two. Each
    dry-run alone fits the quota (a dry-run charges nothing), together they do not: the preflight must not
    pass a revision the real applies then reject half-way."""
    c = new_cluster(apiserver, git_server, tmp_path, {"app/cm.yaml": CM.format(rev=1)})
    quota = {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "cms", "namespace": c.target_ns},
             "spec": {"hard": {"count/configmaps": "3"}}}
    c.client.apply(quota)
    rec = c.reconciler(renderer="plain")
    source = rec.settings.sources[0]
    assert rec.reconcile(source).ok
    # no quota controller in the harness: publish the quota's status as it would (2 of 3 used: room for one
    # more ConfigMap), so quota admission enforces it on dry-runs and applies alike
    c.client.request("PATCH", f"/api/v1/namespaces/{c.target_ns}/resourcequotas/cms/status",
                     body={"status": {"hard": {"count/configmaps": "3"}, "used": {"count/configmaps": "2"}}},
                     content_type="application/merge-patch+json")
    extra = "".join(f"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: extra-{i}}}\ndata: {{a: b}}\n"
                    for i in range(2))
    c.repo.commit({"app/cm.yaml": CM.format(rev=2), "app/zz-extra.yaml": extra}, "two more ConfigMaps")
    result = rec.reconcile(source)
    assert not result.ok, result.message
    cm = c.get("v1", "ConfigMap", "app")
    assert cm is not None and cm["data"]["rev"] == "1", \
        f"half-applied: the ConfigMap change of a rejected revision is live ({result.message})"
    assert c.get("v1", "ConfigMap", "extra-0") is None, f"half-applied: extra-0 was created ({result.message})"


def _crd(group: str, plural: str, kind: str, size_schema: str) -> str:
    return f"""apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {{name: {plural}.{group}}}
spec:
  group: {group}
  scope: Namespaced
  names: {{plural: {plural}, singular: {kind.lower()}, kind: {kind}}}
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec: {{type: object, properties: {{size: {size_schema}}}}}
"""


def test_a_rejected_revision_leaves_an_existing_crd_as_it_was(apiserver: Any, git_server: Any,
                                                              tmp_path: Path) -> None:
    """The CRDs of a revision go first when it also adds a CRD with custom resources (they are dry-run only
    once that CRD exists). When such a resource is rejected, the new CRD is deleted again, but an existing
    CRD the revision changed must be left as it was too: nothing of a rejected revision is applied."""
    c = new_cluster(apiserver, git_server, tmp_path, {"app/cm.yaml": CM.format(rev=1)})
    group = f"{c.target_ns}.example.com"
    c.repo.commit({"app/gadgets.yaml": _crd(group, "gadgets", "Gadget", "{type: integer}")}, "a CRD")
    rec = c.reconciler(renderer="plain", authority=Authority(namespaces=(c.target_ns,),
                                                             cluster_kinds=("CustomResourceDefinition",)))
    source = rec.settings.sources[0]
    first = rec.reconcile(source)
    assert first.ok, first.message
    name = f"gadgets.{group}"
    before = c.client.get("apiextensions.k8s.io/v1", "CustomResourceDefinition", name)
    assert before is not None
    c.repo.commit({
        "app/gadgets.yaml": _crd(group, "gadgets", "Gadget", "{type: integer, maximum: 5}"),
        "app/widgets.yaml": _crd(group, "widgets", "Widget", "{type: integer}"),
        # a name the API server rejects (no uppercase): only seen once the new CRD exists
        "app/widget.yaml": "apiVersion: " + group + "/v1\nkind: Widget\nmetadata: {name: Bad-Widget}\n"
                           "spec: {size: 1}\n",
    }, "narrow an existing CRD, add one with a resource the API server rejects")
    result = rec.reconcile(source)
    assert not result.ok and "Widget" in result.message, result.message
    after = c.client.get("apiextensions.k8s.io/v1", "CustomResourceDefinition", name)
    assert after is not None
    size = after["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]["size"]
    assert "maximum" not in size, f"half-applied: the rejected revision's CRD change is live: {size}"
