"""atk14d: the identity guard keeps a repo from applying the reconciler's own objects, but not from
intercepting the reconciler's writes to them. A source the operator grants
``ValidatingWebhookConfiguration`` (cert-manager, Istio and most operators ship one) commits a webhook
that fails closed on ConfigMaps and Leases in the reconciler's namespace; the reconciler can no longer
write its journal, inventory or status, so the revert commit that removes the webhook never reaches the
cluster: GitOps frozen by the repo ("the reconciler's own objects are off limits", issue 14).
Real kube-apiserver + etcd (admission runs in it) and git server."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest

from handoff.reconciler.config import Authority
from handoff.reconciler.loop import Reconciler

from .cluster import new_cluster

pytestmark = [pytest.mark.tools, pytest.mark.slow]

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: app}}\ndata: {{rev: \"{rev}\"}}\n"


def _webhook(name: str, control_ns: str) -> str:
    # no server answers on 127.0.0.1:1, so with failurePolicy Fail every matched write is denied
    return f"""apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {{name: {name}}}
webhooks:
  - name: deny.{name}.example.com
    admissionReviewVersions: [v1]
    sideEffects: None
    failurePolicy: Fail
    timeoutSeconds: 1
    clientConfig: {{url: "https://127.0.0.1:1/validate"}}
    namespaceSelector:
      matchLabels: {{kubernetes.io/metadata.name: {control_ns}}}
    rules:
      - apiGroups: ["", coordination.k8s.io]
        apiVersions: ["*"]
        operations: [CREATE, UPDATE]
        resources: [configmaps, leases]
"""


def test_a_repo_webhook_cannot_freeze_the_reconcilers_own_writes(apiserver: Any, git_server: Any,
                                                                  tmp_path: Path) -> None:
    c = new_cluster(apiserver, git_server, tmp_path, {"app/cm.yaml": CM.format(rev=1)})
    name = f"freeze-{c.control_ns}"
    settings = c.settings(renderer="plain", authority=Authority(
        namespaces=(c.target_ns,), cluster_kinds=("ValidatingWebhookConfiguration",)))
    rec = Reconciler(settings, c.client, c.workdir)
    source = settings.sources[0]
    try:
        assert rec.reconcile(source).ok
        c.repo.commit({"app/hook.yaml": _webhook(name, c.control_ns)}, "a webhook on the reconciler's writes")
        rec.reconcile(source)
        c.repo.commit({"app/hook.yaml": None, "app/cm.yaml": CM.format(rev=2)}, "revert, and rev 2")
        results = [rec.reconcile(source) for _ in range(3)]
        live = c.get("v1", "ConfigMap", "app") or {}
        assert (live.get("data") or {}).get("rev") == "2", (
            "a repo-committed webhook denying the reconciler's own ConfigMap/Lease writes froze delivery: the "
            f"revert commit never applied ({results[-1].result}: {results[-1].message[:300]})")
    finally:
        with contextlib.suppress(Exception):
            c.client.delete("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration", name)
