"""f18d: ``sourcestatus.patch`` with a resourceVersion writes only onto that version of the object: a
status computed from an older version is refused (the API server's JSON patch ``test``), so it never
replaces a newer write; the new resourceVersion comes back for the next write. Real kube-apiserver + etcd."""

from __future__ import annotations

import pytest

from handoff.kube.client import KubeError
from handoff.reconciler import sourcestatus

from .cluster import Cluster
from .test_source_crd_live import cluster, get_source, source_object  # noqa: F401 - fixture

pytestmark = [pytest.mark.tools, pytest.mark.slow]


def test_a_status_from_an_older_version_is_refused(cluster: Cluster) -> None:  # noqa: F811
    c = cluster
    created = c.client.create(source_object(c))
    uid, first = created["metadata"]["uid"], created["metadata"]["resourceVersion"]
    second = sourcestatus.patch(c.client, c.target_ns, "web", uid, {"observedGeneration": 1,
                                                                    "lastAppliedRevision": "r1"},
                                resource_version=first)
    assert second and second != first and (get_source(c) or {})["metadata"]["resourceVersion"] == second
    with pytest.raises(KubeError) as refused:
        sourcestatus.patch(c.client, c.target_ns, "web", uid, {"observedGeneration": 0}, resource_version=first)
    assert refused.value.status == 422
    assert (get_source(c) or {})["status"] == {"observedGeneration": 1, "lastAppliedRevision": "r1"}
