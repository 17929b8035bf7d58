"""One-way changes (accepted forward, refused backward) are written after every other object of a revision
(``rollback.freezes``), so a rejection comes before them; changes of immutable fields never get that far:
the preflight's dry-run refuses them and nothing of the revision is written (issue 14, "atomic
revisions"). The claim's own roll-back: test_atk14g_pvc_growth_rollback.py. Real kube-apiserver + etcd and
git server for the last two."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from handoff.reconciler.rollback import freezes
from handoff.reconciler.status import FAILED

from .cluster import new_cluster


def _claim(size: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data"},
            "spec": {"resources": {"requests": {"storage": size}}}}


@pytest.mark.parametrize(("new", "old", "one_way"), [
    ("2Gi", "1Gi", True),
    ("1536Mi", "1Gi", True),
    ("1Gi", "1Gi", False),
    ("1024Mi", "1Gi", False),  # the same quantity spelled otherwise
    ("1G", "1Gi", False),  # 10^9 < 2^30: smaller, refused forward (preflight says so), not one-way
    ("lots", "1Gi", True),  # not a quantity: written last costs nothing
])
def test_a_claim_whose_request_grows_is_one_way(new: str, old: str, one_way: bool) -> None:
    assert freezes(_claim(new), _claim(old)) is one_way


def test_new_objects_and_other_kinds_are_not_one_way() -> None:
    assert not freezes(_claim("2Gi"), None)  # created: a roll-back deletes it
    assert not freezes({**_claim("2Gi"), "apiVersion": "example.com/v1"}, _claim("1Gi"))  # another group
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}
    assert freezes({**config, "immutable": True}, config)
    assert not freezes({**config, "immutable": True}, {**config, "immutable": True})
    assert not freezes({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}, "immutable": True},
                       {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}})


CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: a}}\ndata: {{rev: \"{rev}\"}}\n"
_SERVICE = "apiVersion: v1\nkind: Service\nmetadata: {{name: web}}\nspec:\n  selector: {{app: web}}\n" \
           "  ports: [{{port: 80}}]\n{extra}"
_STS = """apiVersion: apps/v1
kind: StatefulSet
metadata: {{name: db}}
spec:
  serviceName: db
  selector: {{matchLabels: {{app: db}}}}
  template:
    metadata: {{labels: {{app: db}}}}
    spec:
      containers: [{{name: db, image: registry.example/db:1.0.0}}]
  volumeClaimTemplates:
    - metadata: {{name: data}}
      spec: {{accessModes: [ReadWriteOnce], resources: {{requests: {{storage: {size}}}}}}}
"""


@pytest.mark.tools
@pytest.mark.slow
@pytest.mark.parametrize(("path", "first", "second", "field"), [
    ("app/svc.yaml", _SERVICE.format(extra=""), _SERVICE.format(extra="  clusterIP: None\n"), "clusterIP"),
    ("app/sts.yaml", _STS.format(size="1Gi"), _STS.format(size="2Gi"), "volumeClaimTemplates"),
], ids=["service-cluster-ip", "statefulset-volume-claim-templates"])
def test_a_change_of_an_immutable_field_is_refused_before_anything_is_written(
        apiserver: Any, git_server: Any, tmp_path: Path, path: str, first: str, second: str, field: str) -> None:
    c = new_cluster(apiserver, git_server, tmp_path, {"app/a.yaml": CM.format(rev=1), path: first})
    rec = c.reconciler(renderer="plain")
    source = rec.settings.sources[0]
    applied = rec.reconcile(source)
    assert applied.ok, applied.message
    c.repo.commit({"app/a.yaml": CM.format(rev=2), path: second}, f"rev 2: change {field}")
    refused = rec.reconcile(source)
    assert refused.result == FAILED and "rejected by the API server" in refused.message, refused.message
    assert refused.applied_revision == applied.applied_revision
    assert (c.get("v1", "ConfigMap", "a") or {})["data"] == {"rev": "1"}, "the revision was half-applied"
