"""atk14b: borrowing the reconciler's identity by other means than a Pod (h14fix guards pods and pod
templates only). Under a wide operator grant (every namespace, as test_h14_identity uses), a repo must not
get the reconciler's own rights: not through a ServiceAccount token Secret for its ServiceAccount, nor by
binding its own Role to another subject (real kube-apiserver + etcd and git server)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from handoff.reconciler.config import Authority
from handoff.reconciler.manifests import APP
from handoff.reconciler.status import REFUSED

from .cluster import new_cluster

pytestmark = [pytest.mark.tools, pytest.mark.slow]

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: app}}\ndata: {{rev: \"{rev}\"}}\n"


def test_a_token_secret_for_the_reconcilers_service_account_is_refused(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    """A ``kubernetes.io/service-account-token`` Secret naming the reconciler's ServiceAccount, under a
    name the own-objects guard does not know: the token controller fills in that ServiceAccount's token,
    readable by anyone who may read Secrets there (the repo's own Pods with a mounted Secret volume)."""
    c = new_cluster(apiserver, git_server, tmp_path, {"app/cm.yaml": CM.format(rev=1)})
    rec = c.reconciler(renderer="plain", authority=Authority(namespaces=("*",)))
    source = rec.settings.sources[0]
    assert rec.reconcile(source).ok
    c.repo.commit({"app/token.yaml": f"""apiVersion: v1
kind: Secret
metadata:
  name: innocent
  namespace: {c.control_ns}
  annotations: {{kubernetes.io/service-account.name: {APP}}}
type: kubernetes.io/service-account-token
"""}, "a token for the reconciler's ServiceAccount")
    result = rec.reconcile(source)
    assert c.client.get("v1", "Secret", "innocent", c.control_ns) is None, \
        f"a repo minted a token for the reconciler's ServiceAccount: {result.result}: {result.message}"
    assert result.result == REFUSED, result.message


def test_binding_the_reconcilers_own_role_to_another_subject_is_refused(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    """A RoleBinding named ``innocent`` in the reconciler's namespace to its Role ``handoff-reconciler-self``
    (Lease, inventory and status ConfigMaps) for a ServiceAccount the repo controls: that subject may then
    take leadership or rewrite inventories. The guard refuses the Role by name but not a binding to it."""
    c = new_cluster(apiserver, git_server, tmp_path, {"app/cm.yaml": CM.format(rev=1)})
    rec = c.reconciler(renderer="plain", authority=Authority(namespaces=("*",)))
    source = rec.settings.sources[0]
    assert rec.reconcile(source).ok
    c.repo.commit({"app/rb.yaml": f"""apiVersion: v1
kind: ServiceAccount
metadata: {{name: attacker}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {{name: innocent, namespace: {c.control_ns}}}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: Role, name: {APP}-self}}
subjects: [{{kind: ServiceAccount, name: attacker, namespace: {c.target_ns}}}]
"""}, "bind the reconciler's own Role to my ServiceAccount")
    result = rec.reconcile(source)
    assert c.client.get("rbac.authorization.k8s.io/v1", "RoleBinding", "innocent", c.control_ns) is None, \
        f"a repo bound the reconciler's own Role to its ServiceAccount: {result.result}: {result.message}"
    assert result.result == REFUSED, result.message


def test_the_default_grant_does_not_let_a_repo_lower_its_namespaces_pod_security_level(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    """The default grant (no ``authority:``) lets a source own its Namespace object "so a revision may
    create its own namespace on first use". When the Namespace already exists with the cluster admin's Pod
    Security label, a repo naming it force-applies its own labels over the admin's: a namespace-scoped grant
    that changes the namespace's admission level (debatable as design; a careless-operator trap)."""
    c = new_cluster(apiserver, git_server, tmp_path, {"app/cm.yaml": CM.format(rev=1)})
    c.client.apply({"apiVersion": "v1", "kind": "Namespace",
                    "metadata": {"name": c.target_ns, "labels": {"pod-security.kubernetes.io/enforce": "restricted"}}})
    rec = c.reconciler(renderer="plain")
    source = rec.settings.sources[0]
    assert rec.reconcile(source).ok
    c.repo.commit({"app/ns.yaml": f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {c.target_ns}\n"
                                  "  labels: {pod-security.kubernetes.io/enforce: privileged}\n"},
                  "my namespace, privileged")
    result = rec.reconcile(source)
    ns = c.client.get("v1", "Namespace", c.target_ns)
    assert ns is not None
    level = (ns["metadata"].get("labels") or {}).get("pod-security.kubernetes.io/enforce")
    assert level == "restricted", \
        f"the default grant let the repo set its namespace's Pod Security level to {level}: {result.message}"
