"""atk18: ``handoff get sources`` prints what tenants' repositories put in a Source's status; a terminal
control sequence from a tenant's YAML must not reach the operator's terminal. Real kube-apiserver + etcd
and git server."""

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

# OSC 0 (set the window title) and a clear-screen: any ESC or BEL a terminal acts on
EVIL = "x\x1b]0;owned\x07\x1b[2J"


def test_a_tenants_object_name_cannot_write_control_sequences_to_the_operators_terminal(
        cluster: Cluster) -> None:  # noqa: F811
    """A tenant's repository declares, in a namespace it is not granted, a ConfigMap whose name holds
    ESC/BEL sequences. The authority check refuses it and the Ready message names the object, raw
    (``sourcestatus._clip`` folds whitespace only); ``sourcetable.row_of`` / ``table`` print the message
    as is, also with ``colour=False`` (piped): ``handoff get sources`` sends the tenant's sequences to the
    operator's terminal (retitle, clear, and on some terminals worse)."""
    c = cluster
    other = f"team-b-{uuid.uuid4().hex[:6]}"
    c.client.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": other}})
    quoted = EVIL.encode("unicode_escape").decode()  # YAML double-quoted escapes: \x1b, \x07
    c.repo.commit({"escape/cm.yaml": f'apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: "{quoted}", '
                                     f'namespace: {other}}}\ndata: {{a: b}}\n'}, "reach into team-b")
    rec = Reconciler(Settings(sources=(), namespace=c.control_ns, leader_election=False), c.client, c.workdir)
    objects = SourceObjects(rec, namespace=c.target_ns, allow_private_hosts=True)
    c.client.create(source_object(c, path="escape"))
    objects.sources_watch.relist()
    rec.drain()
    assert [r.ok for r in rec.run_once()] == [False]
    condition = ready(c)
    assert condition is not None and condition["status"] == "False", condition
    printed = table(list_sources(c.client, c.target_ns), colour=False)
    assert "web" in printed
    assert "\x1b" not in printed and "\x07" not in printed, \
        f"`handoff get sources` printed a tenant's terminal control sequences: {printed!r}"
