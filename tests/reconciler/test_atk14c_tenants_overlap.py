"""atk14c: the documented tenants file (docs/reconciler.md, Tenancy) gives every ``team-*`` namespace
``namespaces: ["{namespace}", "{namespace}-*"]``. Namespace ``team-a-b`` is then both a tenant of its own
(it matches ``team-*``) and inside tenant ``team-a``'s grant (``team-a-*``): a Source in team-a overwrites
(force-apply, adopting it) and later prunes team-a-b's objects. "A source object in namespace N may only
reach what the operator's grants for N allow" (issue 18) should not mean reaching another tenant. atk14
noted this overlap without a test. Real kube-apiserver + etcd and git server."""

from __future__ import annotations

import pytest

from handoff.reconciler.config import Settings
from handoff.reconciler.loop import Reconciler
from handoff.reconciler.sourceobjects import SourceObjects
from handoff.reconciler.status import REFUSED
from handoff.reconciler.tenancy import parse_tenants

from .cluster import Cluster
from .test_source_crd_live import cluster, source_object  # noqa: F401 - fixture

pytestmark = [pytest.mark.tools, pytest.mark.slow]


def test_a_tenant_does_not_reach_the_namespace_of_another_tenant_under_the_documented_tenants_file(
        cluster: Cluster) -> None:  # noqa: F811
    c = cluster
    team_a = c.target_ns
    team_a_b = f"{team_a}-b"  # another team's namespace that happens to share the prefix
    c.client.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": team_a_b}})
    c.client.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings", "namespace": team_a_b},
                    "data": {"owner": "team-a-b"}})
    tenants = parse_tenants([{"namespaces": [f"{team_a}*"],  # the docs' "team-*"
                              "authority": {"namespaces": ["{namespace}", "{namespace}-*"], "clusterKinds": []}}])
    c.repo.commit({"reach/cm.yaml": f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: settings, namespace: "
                                    f"{team_a_b}}}\ndata: {{owner: team-a}}\n"}, "team-a writes team-a-b's settings")
    rec = Reconciler(Settings(sources=(), namespace=c.control_ns, leader_election=False), c.client, c.workdir)
    objects = SourceObjects(rec, tenants=tenants, namespace=team_a)
    c.client.create(source_object(c, path="reach"))
    objects.sources_watch.relist()
    rec.drain()
    (source,) = rec.sources()
    result = rec.reconcile(source)
    data = (c.client.get("v1", "ConfigMap", "settings", team_a_b) or {}).get("data") or {}
    assert data.get("owner") == "team-a-b", \
        f"tenant {team_a} overwrote tenant {team_a_b}'s ConfigMap: {result.result}: {result.message}"
    assert result.result == REFUSED, result.message
