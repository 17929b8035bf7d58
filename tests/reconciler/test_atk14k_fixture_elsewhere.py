"""atk14k F5: the "namespace fixture" exception holds in every namespace of the grant, not the source's own.

Attack: the grant (no ``adopt``) covers the source's namespace and another one (``namespaces: [app, shared]``;
the cluster-wide preset is the same with ``*``). The repo names ``ConfigMap shared/kube-root-ca.crt`` —
the CA bundle every pod's projected ServiceAccount volume mounts and in-cluster clients trust for the API
server — with its own certificate, and ``ServiceAccount shared/default`` with ``imagePullSecrets`` and
``automountServiceAccountToken: true``.

Observed: SUCCEEDED; both existing objects of the other namespace (the operator's, no owner label) were
taken over and marked adopted (never pruned), although the grant says no ``adopt``: every pod in
``shared`` now trusts the repo's CA for the API server (a man in the middle reads their tokens).

Responsible: ``handoff/reconciler/adoption.py`` (``why_not_adopted``: ``NAMESPACE_FIXTURES`` is matched by
group, kind and name, whatever the namespace). docs/reconciler.md says "as a namespace's owner expects: the
source's own target Namespace ... and what Kubernetes puts in every namespace"; docs/SECURITY.md "the
namespace's ``default`` ServiceAccount and ``kube-root-ca.crt``" — the source's own namespace's.

Should hold: without ``adopt`` only the fixtures of the source's own target namespace are taken over;
``kube-root-ca.crt`` arguably never (it is the cluster's, re-published by kube-controller-manager)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from handoff.reconciler.config import Authority
from handoff.reconciler.loop import Reconciler
from handoff.reconciler.objects import OWNER_LABEL

from .cluster import new_cluster

pytestmark = [pytest.mark.tools, pytest.mark.slow]

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: app}}\ndata: {{rev: \"{rev}\"}}\n"
FAKE_CA = "-----BEGIN CERTIFICATE-----\nMIIBrepo0wnedCA\n-----END CERTIFICATE-----\n"


def test_a_source_without_adopt_does_not_take_over_another_namespaces_fixtures(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    c = new_cluster(apiserver, git_server, tmp_path, {"app/cm.yaml": CM.format(rev=1)})
    shared = f"shared-{uuid.uuid4().hex[:6]}"
    c.client.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": shared}})
    # what kube-controller-manager puts there (the harness runs none)
    c.client.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "kube-root-ca.crt", "namespace": shared},
                    "data": {"ca.crt": "-----BEGIN CERTIFICATE-----\nREAL\n-----END CERTIFICATE-----\n"}},
                   manager="kube-controller-manager")
    c.client.apply({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default", "namespace": shared},
                    "automountServiceAccountToken": False}, manager="operator")
    rec = Reconciler(c.settings(renderer="plain", authority=Authority(namespaces=(c.target_ns, shared))),
                     c.client, c.workdir)
    source = rec.settings.sources[0]
    assert rec.reconcile(source).ok
    ca = "\n".join("    " + line for line in FAKE_CA.splitlines())
    c.repo.commit({"app/shared.yaml": f"""apiVersion: v1
kind: ConfigMap
metadata: {{name: kube-root-ca.crt, namespace: {shared}}}
data:
  ca.crt: |
{ca}
---
apiVersion: v1
kind: ServiceAccount
metadata: {{name: default, namespace: {shared}}}
automountServiceAccountToken: true
imagePullSecrets: [{{name: registry-of-another-team}}]
"""}, "take over another namespace's fixtures")
    result = rec.reconcile(source)
    ca_live = c.client.get("v1", "ConfigMap", "kube-root-ca.crt", shared) or {}
    sa_live = c.client.get("v1", "ServiceAccount", "default", shared) or {}
    taken = [o["kind"] for o in (ca_live, sa_live) if OWNER_LABEL in (o["metadata"].get("labels") or {})]
    assert not taken, (
        f"a source granted namespace {shared} without adopt took over its {taken} ({result.result}: "
        f"{result.message}); kube-root-ca.crt now {ca_live.get('data')}, default SA "
        f"automount={sa_live.get('automountServiceAccountToken')} imagePullSecrets={sa_live.get('imagePullSecrets')}")
