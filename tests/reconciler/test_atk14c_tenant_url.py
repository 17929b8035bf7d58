"""atk14c: a tenant's Source reading another tenant's private repository. The Source CRD's ``url`` accepts
``file://`` URLs, and the reconciler keeps each source's checkout on its own disk
(``WORKDIR/.sources/NAMESPACE/NAME``, a git repository fetched with that source's credentials). A Source in
team-b with ``url: file://WORKDIR/.sources/team-a/web`` (the install's workdir is public:
``/var/cache/handoff``) and no credentials fetches team-a's private config through the reconciler and
applies it into team-b's own namespace, Secrets included. issue 18: "cross-namespace Secret references
refused unless granted" (team-a's git credentials are used for team-b all the same); issue 14: "never more
authority than the operator grants a source". Real kube-apiserver + etcd and git server."""

from __future__ import annotations

import uuid

import pytest

from handoff.reconciler.config import Settings
from handoff.reconciler.loop import Reconciler
from handoff.reconciler.sourcecrd import API_VERSION, KIND
from handoff.reconciler.sourceobjects import SourceObjects

from .cluster import Cluster
from .test_source_crd_live import cluster, source_object  # noqa: F401 - fixture

pytestmark = [pytest.mark.tools, pytest.mark.slow]


def test_a_tenant_source_cannot_fetch_another_tenants_checkout_from_the_reconcilers_disk(
        cluster: Cluster) -> None:  # noqa: F811
    c = cluster
    c.repo.commit({"app/db.yaml": "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\n"
                                  "stringData: {password: team-a-only}\n"}, "team-a's database password")
    rec = Reconciler(Settings(sources=(), namespace=c.control_ns, leader_election=False), c.client, c.workdir)
    team_a = SourceObjects(rec, namespace=c.target_ns)
    c.client.create(source_object(c))  # team-a's Source, with its git credentials (secretRef: git)
    team_a.sources_watch.relist()
    rec.drain()
    (a,) = rec.sources()
    assert rec.reconcile(a).ok
    assert c.get("v1", "Secret", "db") is not None

    team_b_ns = f"team-b-{uuid.uuid4().hex[:6]}"
    c.client.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": team_b_ns}})
    team_b = SourceObjects(rec, namespace=team_b_ns)
    c.client.create({"apiVersion": API_VERSION, "kind": KIND, "metadata": {"name": "web", "namespace": team_b_ns},
                     "spec": {"url": f"file://{c.workdir}/.sources/{c.target_ns}/web", "revision": "HEAD",
                              "path": "app", "renderer": "plain", "interval": "1s"}})
    team_b.sources_watch.relist()
    rec.drain()
    b = next(s for s in rec.sources() if s.name == f"{team_b_ns}/web")
    result = rec.reconcile(b)
    stolen = c.client.get("v1", "Secret", "db", team_b_ns) is not None
    assert not stolen, ("team-b's Source fetched team-a's private repository from the reconciler's disk and "
                        f"applied its Secret into team-b: {result.result}: {result.message}")
