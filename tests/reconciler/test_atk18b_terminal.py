"""atk18b: ``status.printable`` escapes C0/C1/DEL, but a terminal also acts on Unicode bidirectional
controls (U+202E RIGHT-TO-LEFT OVERRIDE, U+2066..U+2069 isolates): a tenant's text still reorders what
``handoff get sources`` shows the operator (a "Trojan Source" line). Real kube-apiserver + etcd and git
server."""

from __future__ import annotations

import uuid

import pytest

from handoff.reconciler.config import Settings
from handoff.reconciler.loop import Reconciler
from handoff.reconciler.sourceobjects import SourceObjects
from handoff.reconciler.sourcetable import list_sources, table

from .cluster import Cluster
from .test_source_crd_live import cluster, ready, source_object  # noqa: F401 - fixture

pytestmark = [pytest.mark.tools, pytest.mark.slow]

BIDI = ("\u202e", "\u2066", "\u2067", "\u2068", "\u2069", "\u202d")


def test_a_tenants_bidi_override_does_not_reach_the_operators_terminal(cluster: Cluster) -> None:  # noqa: F811
    """The tenant's repository declares, in a namespace it is not granted, a ConfigMap whose name holds
    U+202E and an isolate. The authority refusal quotes the name in the Ready message; ``printable``
    (status.py) matches only ``[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f]``, so the override reaches the printed
    table as is and the operator's terminal renders the rest of the line reversed."""
    c = cluster
    other = f"team-b-{uuid.uuid4().hex[:6]}"
    c.client.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": other}})
    c.repo.commit({"bidi/cm.yaml": 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: "x\\u202eReady\\u2067 ok", '
                                   f'namespace: {other}}}\ndata: {{a: b}}\n'}, "reach into team-b")
    rec = Reconciler(Settings(sources=(), namespace=c.control_ns, leader_election=False), c.client, c.workdir)
    objects = SourceObjects(rec, namespace=c.target_ns, allow_private_hosts=True)
    c.client.create(source_object(c, path="bidi"))
    objects.sources_watch.relist()
    rec.drain()
    assert [r.ok for r in rec.run_once()] == [False]
    condition = ready(c)
    assert condition is not None and condition["status"] == "False", condition
    printed = table(list_sources(c.client, c.target_ns), colour=False)
    assert "web" in printed
    assert not any(ch in printed for ch in BIDI), \
        f"`handoff get sources` printed a tenant's bidi controls: {printed!r}"
