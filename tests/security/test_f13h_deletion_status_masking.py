"""f13h: a deleted Source whose finalizer is kept says why in its status (DeletionBlocked), naming the objects
its inventory still lists; those names come from the revision, so a chart or a repo author can stamp a Secret's
value into one (a ConfigMap named after it). The message is masked with the Secrets the inventory lists, read
before the prune deletes them and kept for the retries. Real kube-apiserver + etcd and git server."""

from __future__ import annotations

import logging

import pytest

from handoff.reconciler.config import Settings
from handoff.reconciler.loop import Reconciler
from handoff.reconciler.sourcecrd import API_VERSION, KIND
from handoff.reconciler.sourceobjects import SourceObjects
from tests.reconciler.cluster import Cluster
from tests.reconciler.test_source_crd_live import cluster, get_source, ready, source_object  # noqa: F401
from tests.security.leaks import leaks

pytestmark = [pytest.mark.tools, pytest.mark.slow]
VALUE = "s3cretvalue-f13h-deletion"


def _served(c: Cluster) -> tuple[Reconciler, SourceObjects]:
    rec = Reconciler(Settings(sources=(), namespace=c.control_ns, leader_election=False), c.client, c.workdir)
    return rec, SourceObjects(rec, namespace=c.target_ns, allow_private_hosts=True)


def _look(objects: SourceObjects, rec: Reconciler) -> None:
    objects.sources_watch.relist()
    rec.drain()


def test_a_deletion_blocked_message_names_no_secret_value(cluster: Cluster, caplog: pytest.LogCaptureFixture) -> None:  # noqa: F811
    c = cluster
    c.repo.commit({"app/secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata: {name: creds}\n"
                                      f"stringData: {{password: {VALUE}}}\n",
                   "app/named.yaml": f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cfg-{VALUE}}}\n"
                                     "data: {a: b}\n"}, "a ConfigMap named after the Secret's value")
    rec, objects = _served(c)
    c.client.create(source_object(c, "web", path="app"))
    c.client.create(source_object(c, "api", path="other"))
    _look(objects, rec)
    assert [r.ok for r in rec.run_once()] == [True, True]
    assert c.get("v1", "ConfigMap", f"cfg-{VALUE}") is not None
    # another served source whose revision does not render may have taken the objects over: the prune of
    # the deleted one is deferred and its finalizer kept, naming what it keeps
    c.repo.commit({"other/broken.yaml": "kind: [unclosed\n"}, "api's revision does not render")
    c.client.delete(API_VERSION, KIND, "web", c.target_ns)
    with caplog.at_level(logging.WARNING):
        _look(objects, rec)
        _look(objects, rec)  # the retry masks it too
    assert get_source(c, "web") is not None
    condition = ready(c, "web")
    assert condition is not None and condition["reason"] == "DeletionBlocked", condition
    assert "<secret" in condition["message"], condition  # the kept ConfigMap is still named, masked
    texts = {"Source status": repr(get_source(c, "web")), "log": caplog.text}
    assert leaks(texts, [VALUE]) == [], texts
