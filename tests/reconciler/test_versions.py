"""Identity without version: an object whose apiVersion changes is updated in place, never pruned and
re-created (same uid), for core, apps, autoscaling and a custom resource served at two versions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from handoff.reconciler.config import Authority
from handoff.reconciler.inventory import read as read_inventory

from .cluster import Cluster, new_cluster

pytestmark = [pytest.mark.tools, pytest.mark.slow]

GRANT = Authority(cluster_kinds=("CustomResourceDefinition",))  # the CRD is the operator's grant, not a default
CRD = """apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: databases.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: databases, singular: database, kind: Database}
  conversion: {strategy: None}
  versions:
    - name: v1alpha1
      served: true
      storage: false
      schema: {openAPIV3Schema: {type: object, properties: {spec: {type: object, properties: {size: {type: integer}}}}}}
    - name: v1
      served: true
      storage: true
      schema: {openAPIV3Schema: {type: object, properties: {spec: {type: object, properties: {size: {type: integer}}}}}}
"""

APPS = """apiVersion: v1
kind: ConfigMap
metadata: {name: web-config}
data: {mode: prod}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: web
          image: registry.example/web:1.0.0
          resources: {requests: {cpu: 100m, memory: 64Mi}, limits: {cpu: 200m, memory: 128Mi}}
"""

HPA_V1 = """apiVersion: autoscaling/v1
kind: HorizontalPodAutoscaler
metadata: {name: web}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 1
  maxReplicas: 3
  targetCPUUtilizationPercentage: 80
"""

HPA_V2 = """apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 1
  maxReplicas: 4
  metrics:
    - type: Resource
      resource: {name: cpu, target: {type: Utilization, averageUtilization: 70}}
"""


def database(version: str, size: int) -> str:
    return f"apiVersion: example.com/{version}\nkind: Database\nmetadata: {{name: orders}}\nspec: {{size: {size}}}\n"


def uids(c: Cluster) -> dict[str, str]:
    found = {
        "ConfigMap": c.get("v1", "ConfigMap", "web-config"),
        "Deployment": c.get("apps/v1", "Deployment", "web"),
        "HorizontalPodAutoscaler": c.get("autoscaling/v2", "HorizontalPodAutoscaler", "web"),
        "Database": c.get("example.com/v1", "Database", "orders"),
    }
    assert all(found.values()), found
    return {kind: str(obj["metadata"]["uid"]) for kind, obj in found.items() if obj}


def test_api_version_changes_update_in_place_with_zero_deletions(apiserver: Any, git_server: Any,
                                                                tmp_path: Path) -> None:
    c = new_cluster(apiserver, git_server, tmp_path, {
        "app/00-crd.yaml": CRD, "app/apps.yaml": APPS, "app/hpa.yaml": HPA_V1,
        "app/db.yaml": database("v1alpha1", 1)})
    rec = c.reconciler(renderer="plain", authority=GRANT)
    source = rec.settings.sources[0]
    first = rec.reconcile(source)
    assert first.ok, first.message
    before = uids(c)
    c.repo.commit({"app/hpa.yaml": HPA_V2, "app/db.yaml": database("v1", 2)}, "move to the newer versions")
    second = rec.reconcile(source)
    assert second.ok, second.message
    assert second.pruned == () and second.prune_kept == ()
    assert uids(c) == before
    hpa = c.get("autoscaling/v2", "HorizontalPodAutoscaler", "web")
    db = c.get("example.com/v1", "Database", "orders")
    assert hpa is not None and hpa["spec"]["maxReplicas"] == 4
    assert db is not None and db["spec"]["size"] == 2
    inv = read_inventory(c.client, c.control_ns, source.name)
    assert inv is not None
    assert sorted(f"{r.api_version} {r.kind}" for r in inv.objects) == [
        "apiextensions.k8s.io/v1 CustomResourceDefinition", "apps/v1 Deployment", "autoscaling/v2 HorizontalPodAutoscaler",
        "example.com/v1 Database", "v1 ConfigMap"]
    # the next passes (and a restarted reconciler) see no drift and delete nothing
    assert rec.reconcile(source).drift == ()
    again = c.reconciler(renderer="plain", authority=GRANT).reconcile(source)
    assert again.ok and again.drift == () and again.pruned == (), again.message
    # and back: a version downgrade is an update too
    c.repo.commit({"app/hpa.yaml": HPA_V1, "app/db.yaml": database("v1alpha1", 3)}, "back")
    third = rec.reconcile(source)
    assert third.ok and third.pruned == (), third.message
    assert uids(c) == before
