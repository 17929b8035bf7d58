"""atk18: a Source's status follows kstatus: a new generation is reported Reconciling only while a pass
for it is on its way, and observedGeneration catches up with it. Real kube-apiserver + etcd and git
server, driven step by step."""

from __future__ import annotations

import pytest

from handoff.reconciler.config import Settings
from handoff.reconciler.loop import Reconciler
from handoff.reconciler.sourcecrd import API_VERSION, KIND
from handoff.reconciler.sourceobjects import SourceObjects
from handoff.report.model import ObjectRef

from .cluster import Cluster
from .test_source_crd_live import cluster, get_source, ready, source_object  # noqa: F401 - fixture

pytestmark = [pytest.mark.tools, pytest.mark.slow]


@pytest.mark.parametrize("edit", [{"interval": "60m"}, {"env": ""}, {"values": []}])
def test_an_edit_that_changes_no_setting_is_not_left_reconciling_for_a_whole_interval(
        cluster: Cluster, edit: dict[str, object]) -> None:  # noqa: F811
    """An edit that bumps ``metadata.generation`` but parses to the same settings (``1h`` written as
    ``60m``, an empty env, an empty list): ``SourceObjects.changed`` writes Ready=Unknown
    "reconciling generation 2" with observedGeneration 1, but ``Reconciler.set_source`` returns early for
    an equal Source, so no pass is made due: the Source says Reconciling, and ``kubectl wait
    --for=condition=Ready`` / kstatus wait, for up to its interval (here an hour). Either a pass is due at
    once (set_source's docstring: "a changed spec is due at once") or the status says generation 2 is
    Ready."""
    c = cluster
    rec = Reconciler(Settings(sources=(), namespace=c.control_ns, leader_election=False), c.client, c.workdir)
    objects = SourceObjects(rec, namespace=c.target_ns, allow_private_hosts=True)
    c.client.create(source_object(c, interval="1h"))
    objects.sources_watch.relist()
    rec.drain()
    assert [r.ok for r in rec.run_once()] == [True]
    assert (ready(c) or {}).get("status") == "True"
    assert rec.due() == []  # next pass in an hour
    c.client.patch(ObjectRef(API_VERSION, KIND, "web", c.target_ns), {"spec": edit},
                   content_type="application/merge-patch+json")
    objects.sources_watch.relist()
    rec.drain()
    status = (get_source(c) or {})["status"]
    caught_up = status.get("observedGeneration") == 2 and (ready(c) or {}).get("status") == "True"
    due = [s.name for s in rec.due()]
    assert caught_up or due == [f"{c.target_ns}/web"], \
        (f"generation 2 reported {ready(c)} with observedGeneration {status.get('observedGeneration')} "
         f"and no pass due for up to the Source's interval")
