"""atk14g: a one-way change in a revision rejected midway. Revision 2 grows a bound PersistentVolumeClaim
(1Gi -> 2Gi, its StorageClass allows expansion) and changes two ConfigMaps; the API server rejects the
second ConfigMap at the real write (an operator's ValidatingAdmissionPolicy that judges real writes only,
so preflight passes). The API server refuses to shrink a claim back to its `status.capacity`, so a roll-back
cannot undo the growth once written: as with `immutable: true` (atk14b R2, `rollback.freezes`), it must be
written last, after every object that may still be rejected. Nothing of revision 2 may stay live (issue 14,
"atomic revisions"). Real kube-apiserver + etcd and git server."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest

from handoff.kube.errors import KubeError
from handoff.reconciler.loop import Reconciler

from .cluster import new_cluster

pytestmark = [pytest.mark.tools, pytest.mark.slow]

_ADM = "admissionregistration.k8s.io/v1"
CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {n}}}\ndata: {{rev: \"{rev}\"}}\n"


def _pvc(sc: str, pv: str, size: str) -> str:
    return (f"apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {{name: data}}\n"
            f"spec: {{storageClassName: {sc}, volumeName: {pv}, accessModes: [ReadWriteOnce], "
            f"resources: {{requests: {{storage: {size}}}}}}}\n")


def _policy(name: str, ns: str) -> list[dict[str, Any]]:
    return [{"apiVersion": _ADM, "kind": "ValidatingAdmissionPolicy", "metadata": {"name": name},
             "spec": {"failurePolicy": "Fail",
                      "matchConstraints": {"resourceRules": [{
                          "apiGroups": [""], "apiVersions": ["*"], "operations": ["CREATE", "UPDATE"],
                          "resources": ["configmaps"]}]},
                      "validations": [{"expression": (
                          "request.dryRun == true || object.metadata.name != 'b' || !has(object.data) || "
                          "!('rev' in object.data) || object.data.rev != '2'"),
                          "message": "b at rev 2 is refused on real writes"}]}},
            {"apiVersion": _ADM, "kind": "ValidatingAdmissionPolicyBinding", "metadata": {"name": name},
             "spec": {"policyName": name, "validationActions": ["Deny"], "matchResources": {
                 "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": ns}}}}}]


def test_a_claim_grown_by_a_revision_rejected_midway_is_not_left_grown(apiserver: Any, git_server: Any,
                                                                        tmp_path: Path) -> None:
    c = new_cluster(apiserver, git_server, tmp_path, {"app/placeholder.yaml": ""})
    sc, pv, name = f"sc-{c.target_ns}", f"pv-{c.target_ns}", f"atk14g-{c.target_ns}"
    # the operator's storage: an expandable class and a volume bound to the claim
    c.client.apply({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": sc},
                    "provisioner": "example.com/none", "allowVolumeExpansion": True})
    c.client.apply({"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": pv},
                    "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                             "storageClassName": sc, "hostPath": {"path": "/tmp/atk14g"},
                             "claimRef": {"namespace": c.target_ns, "name": "data"}}})
    c.repo.commit({"app/placeholder.yaml": None, "app/1-data.yaml": _pvc(sc, pv, "1Gi"),
                   "app/2-a.yaml": CM.format(n="a", rev=1), "app/3-b.yaml": CM.format(n="b", rev=1)},
                  "rev 1: a claim and two ConfigMaps")
    rec = Reconciler(c.settings(renderer="plain"), c.client, c.workdir)
    source = rec.settings.sources[0]
    try:
        first = rec.reconcile(source)
        assert first.ok, first.message
        # no PV controller in the harness: publish what it would, the claim bound at 1Gi
        c.client.request("PATCH", f"/api/v1/namespaces/{c.target_ns}/persistentvolumeclaims/data/status",
                         body={"status": {"phase": "Bound", "accessModes": ["ReadWriteOnce"],
                                          "capacity": {"storage": "1Gi"}}},
                         content_type="application/merge-patch+json")
        for obj in _policy(name, c.target_ns):
            c.client.create(obj)
        while True:  # until the API server enforces the policy on real writes
            try:
                c.client.apply({"apiVersion": "v1", "kind": "ConfigMap",
                                "metadata": {"name": "b", "namespace": c.target_ns}, "data": {"rev": "2"}})
            except KubeError:
                break
            c.client.apply({"apiVersion": "v1", "kind": "ConfigMap",
                            "metadata": {"name": "b", "namespace": c.target_ns}, "data": {"rev": "1"}})
        c.repo.commit({"app/1-data.yaml": _pvc(sc, pv, "2Gi"), "app/2-a.yaml": CM.format(n="a", rev=2),
                       "app/3-b.yaml": CM.format(n="b", rev=2)}, "rev 2: grow the claim, change both ConfigMaps")
        failed = rec.reconcile(source)
        claim = c.get("v1", "PersistentVolumeClaim", "data") or {}
        size = claim.get("spec", {}).get("resources", {}).get("requests", {}).get("storage")
        a = (c.get("v1", "ConfigMap", "a") or {}).get("data", {}).get("rev")
        assert not failed.ok, f"precondition: b was rejected at its real write ({failed.message})"
        assert size == "1Gi" and a == "1", (
            "a revision that grew a claim and was rejected midway was left half-applied: the claim requests "
            f"{size} (revision 2), ConfigMap a is at rev {a}, while status keeps the previous revision "
            f"({failed.result}: {failed.message[-700:]})")
    finally:
        for kind in ("ValidatingAdmissionPolicyBinding", "ValidatingAdmissionPolicy"):
            with contextlib.suppress(KubeError):
                c.client.delete(_ADM, kind, name)
        for api, kind, obj in (("v1", "PersistentVolume", pv), ("storage.k8s.io/v1", "StorageClass", sc)):
            with contextlib.suppress(KubeError):
                c.client.delete(api, kind, obj)
