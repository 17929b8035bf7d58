"""atk14e: the identity guard now refuses a webhook that could intercept the reconciler's own writes, but
a webhook that matches only the source's *own* namespace passes it (it excludes the reconciler's namespace
by name and leaves ``Source`` objects alone). Once it fails closed, every later revision of that source,
the revert that removes the webhook included, is denied at preflight (server-side dry-run goes through
admission too), so the webhook's removal is never applied and the fix in Git never reaches the cluster:
GitOps frozen by the repo (issue 14, "leader election / delivery that the repo cannot freeze").
Real kube-apiserver + etcd (admission runs in it) and git server."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest

from handoff.reconciler.config import Authority, Settings
from handoff.reconciler.loop import Reconciler

from .cluster import new_cluster

pytestmark = [pytest.mark.tools, pytest.mark.slow]

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: app}}\ndata: {{rev: \"{rev}\"}}\n"


def _webhook(name: str, target_ns: str) -> str:
    # no server answers on 127.0.0.1:1, so with failurePolicy Fail every matched write is denied; it
    # matches only the source's own namespace, never the reconciler's, and no Source objects
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
      matchExpressions:
        - {{key: kubernetes.io/metadata.name, operator: In, values: [{target_ns}]}}
    rules:
      - apiGroups: [""]
        apiVersions: ["*"]
        operations: [CREATE, UPDATE, DELETE]
        resources: [configmaps]
"""


def test_a_webhook_on_the_sources_own_namespace_cannot_freeze_its_revert(apiserver: Any, git_server: Any,
                                                                        tmp_path: Path) -> None:
    c = new_cluster(apiserver, git_server, tmp_path, {"app/cm.yaml": CM.format(rev=1)})
    name = f"self-freeze-{c.target_ns}"
    settings = c.settings(renderer="plain", authority=Authority(
        namespaces=(c.target_ns,), cluster_kinds=("ValidatingWebhookConfiguration",)))
    rec = Reconciler(settings, c.client, c.workdir)
    source = settings.sources[0]
    try:
        assert rec.reconcile(source).ok
        c.repo.commit({"app/hook.yaml": _webhook(name, c.target_ns)}, "a fail-closed webhook on app's ConfigMaps")
        rec.reconcile(source)
        assert c.get("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration", name) is not None, (
            "precondition: the guard let the webhook through (it excludes the reconciler's namespace)")
        c.repo.commit({"app/hook.yaml": None, "app/cm.yaml": CM.format(rev=2)}, "revert the webhook, and rev 2")
        results = [rec.reconcile(source) for _ in range(3)]
        hook = c.get("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration", name)
        live = c.get("v1", "ConfigMap", "app") or {}
        assert hook is None and (live.get("data") or {}).get("rev") == "2", (
            "a repo-committed webhook on the source's own namespace froze its delivery: the revert commit that "
            f"removes it never applied (webhook still live: {hook is not None}; ConfigMap rev "
            f"{(live.get('data') or {}).get('rev')}; {results[-1].result}: {results[-1].message[:300]})")
    finally:
        with contextlib.suppress(Exception):
            c.client.delete("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration", name)


def test_a_webhook_of_one_source_cannot_deny_writes_in_another_sources_namespace(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    c = new_cluster(apiserver, git_server, tmp_path, {"app/cm.yaml": CM.format(rev=1),
                                                      "team-b/cm.yaml": CM.format(rev=1)})
    team_b = f"b-{c.target_ns}"
    c.client.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": team_b}})
    name = f"cross-freeze-{c.target_ns}"
    source_a = c.source(authority=Authority(namespaces=(c.target_ns,),
                                            cluster_kinds=("ValidatingWebhookConfiguration",)))
    source_b = c.source(name=f"src-{team_b}", path="team-b", namespace=team_b,
                        authority=Authority(namespaces=(team_b,)))
    settings = c.settings(renderer="plain")
    rec = Reconciler(Settings(**{**settings.__dict__, "sources": (source_a, source_b)}), c.client, c.workdir)
    try:
        assert rec.reconcile(source_a).ok and rec.reconcile(source_b).ok
        c.repo.commit({"app/hook.yaml": _webhook(name, team_b)}, "team A: a fail-closed webhook on team B")
        applied_a = rec.reconcile(source_a)
        c.repo.commit({"team-b/cm.yaml": CM.format(rev=2)}, "team B: rev 2")
        result_b = rec.reconcile(source_b)
        hook = c.client.get("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration", name)
        live = c.client.get("v1", "ConfigMap", "app", team_b) or {}
        assert hook is None or (live.get("data") or {}).get("rev") == "2", (
            f"source A, granted only namespace {c.target_ns}, applied a webhook that denies every write in "
            f"team B's namespace {team_b} ({applied_a.result}); team B's revision 2 never applied: "
            f"{result_b.result}: {result_b.message[:300]}")
    finally:
        with contextlib.suppress(Exception):
            c.client.delete("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration", name)
