"""A roll-back step the API server refuses is named in the status, never skipped silently: an identity that
may create ConfigMaps but not delete them cannot remove what a rejected revision created (real
kube-apiserver + etcd, git server, impersonation)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from handoff.reconciler import inventory
from handoff.reconciler.config import Authority

from .cluster import new_cluster

pytestmark = [pytest.mark.tools, pytest.mark.slow]

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: app}}\ndata: {{rev: \"{rev}\"}}\n"
RBAC = "rbac.authorization.k8s.io/v1"


def test_a_created_object_the_identity_may_not_delete_is_named_and_stays_listed(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    c = new_cluster(apiserver, git_server, tmp_path, {"app/cm.yaml": CM.format(rev=1)})
    c.client.apply({"apiVersion": "v1", "kind": "ServiceAccount",
                    "metadata": {"name": "no-delete", "namespace": c.target_ns}})
    c.client.apply({"apiVersion": RBAC, "kind": "Role", "metadata": {"name": "no-delete", "namespace": c.target_ns},
                    "rules": [{"apiGroups": [""], "resources": ["configmaps"],
                               "verbs": ["get", "list", "create", "update", "patch"]}]})
    c.client.apply({"apiVersion": RBAC, "kind": "RoleBinding",
                    "metadata": {"name": "no-delete", "namespace": c.target_ns},
                    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "no-delete"},
                    "subjects": [{"kind": "ServiceAccount", "name": "no-delete", "namespace": c.target_ns}]})
    c.client.apply({"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "cms", "namespace": c.target_ns},
                    "spec": {"hard": {"count/configmaps": "2"}}})
    rec = c.reconciler(renderer="plain", service_account="no-delete", authority=Authority())
    source = rec.settings.sources[0]
    first = rec.reconcile(source)
    assert first.ok, first.message
    # no quota controller in the harness: publish the quota's status as it would (room for one more)
    c.client.request("PATCH", f"/api/v1/namespaces/{c.target_ns}/resourcequotas/cms/status",
                     body={"status": {"hard": {"count/configmaps": "2"}, "used": {"count/configmaps": "1"}}},
                     content_type="application/merge-patch+json")
    extra = "".join(f"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: extra-{i}}}\ndata: {{a: b}}\n"
                    for i in range(2))
    c.repo.commit({"app/cm.yaml": CM.format(rev=2), "app/zz-extra.yaml": extra}, "two more ConfigMaps")
    result = rec.reconcile(source)
    assert not result.ok and "extra-1" in result.message and "not applied" in result.message, result.message
    assert f"roll-back incomplete: ConfigMap/{c.target_ns}/extra-0" in result.message, result.message
    assert result.applied_revision == first.applied_revision
    app = c.get("v1", "ConfigMap", "app")
    assert app is not None and app["data"]["rev"] == "1"  # the steps it may do are done
    inv = inventory.read(c.client, c.control_ns, source.name)
    assert inv is not None and not inv.pending
    assert sorted(r.name for r in inv.objects) == ["app", "extra-0"]  # listed, so a later revision prunes it
