"""atk18e: a Source whose status was edited (by a user, or another controller) to claim an
``observedGeneration`` the reconciler never observed. ``_observation`` trusts the stored value: a later
spec edit that changes no setting (1h as 60m) is then not ``caught_up`` (seen != previous.generation) but
written "Progressing" with the claimed observedGeneration kept, and no pass is made due for it: the Source
says Ready=Unknown, observedGeneration ahead of its generation, until its interval brings a pass. Real
kube-apiserver + etcd and git server."""

from __future__ import annotations

import pytest

from handoff.reconciler.config import Settings
from handoff.reconciler.loop import Reconciler
from handoff.reconciler.sourcecrd import API_VERSION, KIND
from handoff.reconciler.sourceobjects import SourceObjects
from handoff.report.model import ObjectRef

from .cluster import Cluster
from .test_source_crd_live import cluster, get_source, source_object  # noqa: F401 - fixture

pytestmark = [pytest.mark.tools, pytest.mark.slow]


def _edit_status(c: Cluster, status: dict[str, object]) -> None:
    path = c.client.resource(API_VERSION, KIND).path(c.target_ns, "web") + "/status"
    c.client.request("PATCH", path, body={"status": status}, content_type="application/merge-patch+json")


@pytest.mark.parametrize("claimed", [7, 0])  # a generation ahead of the object's, or none observed yet
def test_a_claimed_observed_generation_does_not_hold_a_same_settings_edit_in_progressing(
        cluster: Cluster, claimed: int) -> None:  # noqa: F811
    c = cluster
    rec = Reconciler(Settings(sources=(), namespace=c.control_ns, leader_election=False), c.client, c.workdir)
    objects = SourceObjects(rec, namespace=c.target_ns, allow_private_hosts=True)
    c.client.create(source_object(c, interval="1h"))
    objects.sources_watch.relist()
    rec.drain()
    assert [r.ok for r in rec.run_once()] == [True]
    after_pass = (get_source(c) or {}).get("status") or {}
    assert after_pass.get("observedGeneration") == 1
    _edit_status(c, {"observedGeneration": claimed})  # someone claims what this process never wrote
    objects.changed(get_source(c) or {})  # its MODIFIED event
    rec.drain()
    c.client.patch(ObjectRef(API_VERSION, KIND, "web", c.target_ns), {"spec": {"interval": "60m"}},
                   content_type="application/merge-patch+json")
    objects.changed(get_source(c) or {})
    rec.drain()
    now = get_source(c) or {}
    status = now.get("status") or {}
    ready = next((x for x in status.get("conditions") or () if x["type"] == "Ready"), {})
    generation = now["metadata"]["generation"]
    assert status.get("observedGeneration") == generation and ready.get("status") == "True", \
        ("an edit that changes no setting is observed at once with the last pass's Ready condition, whatever "
         f"observedGeneration the stored status claimed: generation={generation}, "
         f"observedGeneration={status.get('observedGeneration')}, Ready={ready.get('status')} "
         f"{ready.get('reason')}")
