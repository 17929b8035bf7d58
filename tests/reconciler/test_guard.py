"""The reconciler's own objects are off limits to every source, and leadership cannot be taken by repo
content (real kube-apiserver + etcd and git server)."""

from __future__ import annotations

import datetime
import uuid
from pathlib import Path
from typing import Any

import pytest

from handoff.kube.client import connect
from handoff.kube.lease import LEASE_API, LeaderElector
from handoff.reconciler.config import Settings, Source
from handoff.reconciler.guard import own_object
from handoff.reconciler.status import REFUSED, SUCCEEDED
from handoff.report.model import ObjectRef

from .cluster import new_cluster

pytestmark = [pytest.mark.tools, pytest.mark.slow]

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: app}}\ndata: {{rev: \"{rev}\"}}\n"


def lease(namespace: str) -> str:
    return f"""apiVersion: coordination.k8s.io/v1
kind: Lease
metadata: {{name: handoff-reconciler, namespace: {namespace}}}
spec:
  holderIdentity: attacker
  leaseDurationSeconds: 3600
  renewTime: "2099-01-01T00:00:00.000000Z"
  acquireTime: "2099-01-01T00:00:00.000000Z"
"""


def test_a_repo_committing_the_reconcilers_lease_is_refused_and_the_next_good_commit_applied(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    c = new_cluster(apiserver, git_server, tmp_path, {"app/cm.yaml": CM.format(rev=1)})
    rec = c.reconciler(renderer="plain")
    source = rec.settings.sources[0]
    assert rec.reconcile(source).ok
    c.repo.commit({"app/cm.yaml": CM.format(rev=2), "app/lease.yaml": lease(c.control_ns)}, "take the lease")
    refused = rec.reconcile(source)
    assert refused.result == REFUSED, refused.message
    assert f"Lease/{c.control_ns}/handoff-reconciler" in refused.message
    assert c.client.get(LEASE_API, "Lease", "handoff-reconciler", c.control_ns) is None
    cm = c.get("v1", "ConfigMap", "app")
    assert cm is not None and cm["data"]["rev"] == "1"  # nothing of the revision applied
    status = c.status()
    assert status["result"] == REFUSED and "reconciler's own objects" in status["message"]
    events = list(c.client.list("v1", "Event", namespace=c.control_ns))
    assert any("handoff-reconciler" in e.get("message", "") and e["type"] == "Warning" for e in events)

    own_rbac = ("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\n"
                "metadata: {name: handoff-reconciler}\nroleRef: {apiGroup: rbac.authorization.k8s.io, "
                "kind: ClusterRole, name: cluster-admin}\nsubjects: [{kind: Group, name: system:authenticated, "
                "apiGroup: rbac.authorization.k8s.io}]\n")
    own_status = (f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: handoff-status-{source.name}, "
                  f"namespace: {c.control_ns}}}\ndata: {{result: Succeeded}}\n")
    c.repo.commit({"app/lease.yaml": None, "app/rbac.yaml": own_rbac, "app/status.yaml": own_status},
                  "widen its rights and fake its status")
    again = rec.reconcile(source)
    assert again.result == REFUSED and "ClusterRoleBinding/handoff-reconciler" in again.message
    assert c.client.get("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "handoff-reconciler") is None

    good = c.repo.commit({"app/rbac.yaml": None, "app/status.yaml": None, "app/cm.yaml": CM.format(rev=3)},
                         "revert")
    fixed = rec.reconcile(source)
    assert fixed.result == SUCCEEDED, fixed.message
    cm = c.get("v1", "ConfigMap", "app")
    assert cm is not None and cm["data"]["rev"] == "3"
    assert c.status()["lastAppliedRevision"] == good


def test_a_lease_renewed_into_the_future_does_not_keep_leadership(apiserver: Any) -> None:
    """A Lease written before the guard existed (or by hand) with renewTime 2099 is taken over."""
    client = connect(apiserver.kubeconfig)
    ns = f"hs-lease-{uuid.uuid4().hex[:6]}"
    client.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    client.create({"apiVersion": LEASE_API, "kind": "Lease", "metadata": {"name": "handoff-reconciler",
                                                                          "namespace": ns},
                   "spec": {"holderIdentity": "attacker", "leaseDurationSeconds": 3600,
                            "renewTime": "2099-01-01T00:00:00.000000Z"}})
    elector = LeaderElector(client, ns, "handoff-reconciler", "replica-1", lease_seconds=6)
    assert elector.try_acquire_or_renew()
    held = client.get(LEASE_API, "Lease", "handoff-reconciler", ns)
    assert held is not None and held["spec"]["holderIdentity"] == "replica-1"
    renewed = datetime.datetime.fromisoformat(held["spec"]["renewTime"].replace("Z", "+00:00"))
    assert renewed.year < 2099


def test_what_counts_as_the_reconcilers_own() -> None:
    s = Settings(sources=(Source(name="a", url="https://git.example/x.git"),), namespace="handoff-system")

    def own(kind: str, name: str, namespace: str = "", api: str = "v1") -> bool:
        return own_object(ObjectRef(api, kind, name, namespace), s)

    assert own("Lease", "handoff-reconciler", "handoff-system", LEASE_API)
    assert own("ConfigMap", "handoff-inventory-a", "handoff-system")
    assert own("ConfigMap", "handoff-reconciler-config", "handoff-system")
    assert own("Deployment", "handoff-reconciler", "handoff-system", "apps/v1")
    assert own("Secret", "handoff-git-credentials", "handoff-system")
    assert own("RoleBinding", "handoff-reconciler-self", "handoff-system", "rbac.authorization.k8s.io/v1")
    assert own("ClusterRole", "handoff-reconciler", api="rbac.authorization.k8s.io/v1")
    assert own("Namespace", "handoff-system")
    assert not own("ConfigMap", "handoff-status-a", "team-a")  # another namespace: an ordinary object
    assert not own("ConfigMap", "app", "handoff-system")
    assert not own("Lease", "my-app-leader", "handoff-system", LEASE_API)
    assert not own("ClusterRole", "view", api="rbac.authorization.k8s.io/v1")
