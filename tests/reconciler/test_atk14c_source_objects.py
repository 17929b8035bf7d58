"""atk14c: deleting a Source object (handoff.dev/v1). "Deleting a source removes its objects only when its
spec says so (a finalizer), otherwise orphans them" (issue 18), and prune never deletes what another
source of this reconciler desires (issue 14). Driven in-process, step by step, so the order of events is
the test's (real kube-apiserver + etcd and git server)."""

from __future__ import annotations

import pytest

from handoff.reconciler.config import Settings
from handoff.reconciler.loop import Reconciler
from handoff.reconciler.objects import OWNER_LABEL
from handoff.reconciler.sourcecrd import API_VERSION, KIND, PRUNE_FINALIZER
from handoff.reconciler.sourceobjects import SourceObjects
from handoff.report.model import ObjectRef

from .cluster import Cluster
from .test_source_crd_live import cluster, get_source, source_object  # noqa: F401 - fixture

pytestmark = [pytest.mark.tools, pytest.mark.slow]


def _served(c: Cluster) -> tuple[Reconciler, SourceObjects]:
    rec = Reconciler(Settings(sources=(), namespace=c.control_ns, leader_election=False), c.client, c.workdir)
    return rec, SourceObjects(rec, namespace=c.target_ns)


def _look(objects: SourceObjects, rec: Reconciler) -> None:
    """What the watch would hand over: every Source object as it is now, run on the loop's thread."""
    objects.sources_watch.relist()
    rec.drain()


def test_a_source_whose_spec_says_prune_false_when_deleted_orphans_its_objects(
        cluster: Cluster) -> None:  # noqa: F811
    """The operator sets ``prune: false`` and deletes the Source before the reconciler saw the edit (it was
    busy, restarting, or not the leader): the finalizer the old spec put there is still on the object. The
    spec at deletion says orphan, so the objects must stay, without the owner label."""
    c = cluster
    rec, objects = _served(c)
    c.client.create(source_object(c))
    _look(objects, rec)
    assert [r.ok for r in rec.run_once()] == [True]
    _look(objects, rec)
    assert PRUNE_FINALIZER in (get_source(c) or {})["metadata"].get("finalizers", ())
    before = c.get("v1", "ConfigMap", "one")
    assert before is not None
    # the operator's two commands, while the reconciler looks away
    c.client.patch(ObjectRef(API_VERSION, KIND, "web", c.target_ns), {"spec": {"prune": False}},
                   content_type="application/merge-patch+json")
    c.client.delete(API_VERSION, KIND, "web", c.target_ns)
    _look(objects, rec)
    after = c.get("v1", "ConfigMap", "one")
    assert after is not None, "a Source deleted with prune: false in its spec deleted its objects"
    assert after["metadata"]["uid"] == before["metadata"]["uid"]
    assert OWNER_LABEL not in (after["metadata"].get("labels") or {})


def test_a_deleted_source_does_not_prune_an_object_another_source_now_declares(
        cluster: Cluster) -> None:  # noqa: F811
    """One commit moves ConfigMap ``one`` from Source ``web``'s path to Source ``api``'s, and the team
    deletes ``web`` (prune: true) as part of the same change. The finalizer's prune must keep what ``api``
    desires (as a pass's prune does, ``_claimed_elsewhere``), not delete it for ``api`` to re-create with
    a new uid."""
    c = cluster
    rec, objects = _served(c)
    c.client.create(source_object(c, "web", path="app"))
    c.client.create(source_object(c, "api", path="other"))
    _look(objects, rec)
    assert [r.ok for r in rec.run_once()] == [True, True]
    _look(objects, rec)
    before = c.get("v1", "ConfigMap", "one")
    assert before is not None
    c.repo.commit({"app/cm.yaml": None, "app/keep.yaml": "apiVersion: v1\nkind: ConfigMap\n"
                                                         "metadata: {name: web-left}\ndata: {a: b}\n",
                   "other/one.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: one}\n"
                                     "data: {rev: \"1\"}\n"}, "move one to api, retire web")
    c.client.delete(API_VERSION, KIND, "web", c.target_ns)
    _look(objects, rec)  # web's finalizer runs before api's next pass
    assert get_source(c, "web") is None
    rec.run_once()
    after = c.get("v1", "ConfigMap", "one")
    assert after is not None
    assert after["metadata"]["uid"] == before["metadata"]["uid"], \
        "deleting Source web pruned ConfigMap one, which Source api declares; api re-created it (new uid)"


RBAC = "rbac.authorization.k8s.io/v1"


def test_a_deleted_source_prunes_as_its_service_account_after_a_restart(cluster: Cluster) -> None:  # noqa: F811
    """A Source with ``serviceAccountName: deployer``: its API calls impersonate that ServiceAccount, "so the
    cluster's RBAC decides" (issue 14). The namespace admin revokes deployer's rights, then deletes the
    Source (prune: true). A reconciler that restarted in between never served the Source, so the finalizer
    prunes with the reconciler's own identity: what RBAC now forbids the source is deleted all the same."""
    c = cluster
    c.client.apply({"apiVersion": RBAC, "kind": "Role", "metadata": {"name": "deployer", "namespace": c.target_ns},
                    "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["*"]}]})
    binding = {"apiVersion": RBAC, "kind": "RoleBinding", "metadata": {"name": "deployer", "namespace": c.target_ns},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "deployer"},
               "subjects": [{"kind": "ServiceAccount", "name": "deployer", "namespace": c.target_ns}]}
    c.client.apply(binding)
    rec, objects = _served(c)
    c.client.create(source_object(c, serviceAccountName="deployer"))
    _look(objects, rec)
    assert [r.ok for r in rec.run_once()] == [True]
    _look(objects, rec)
    before = c.get("v1", "ConfigMap", "one")
    assert before is not None
    c.client.delete(RBAC, "RoleBinding", "deployer", c.target_ns)  # deployer may do nothing here now
    c.client.delete(API_VERSION, KIND, "web", c.target_ns)
    restarted, restarted_objects = _served(c)  # a new process: it never served web
    _look(restarted_objects, restarted)
    after = c.get("v1", "ConfigMap", "one")
    assert after is not None and after["metadata"]["uid"] == before["metadata"]["uid"], \
        "the finalizer pruned with the reconciler's identity what the Source's ServiceAccount may not delete"


def test_deleting_a_suspended_source_prunes_nothing(cluster: Cluster) -> None:  # noqa: F811
    """The CRD's own description of ``suspend``: "Stop reconciling (objects are kept, nothing is pruned)".
    An operator suspends a Source to take its objects over by hand (as with Flux, whose finalizer skips
    garbage collection of a suspended Kustomization), then deletes it: its objects must stay."""
    c = cluster
    rec, objects = _served(c)
    c.client.create(source_object(c))
    _look(objects, rec)
    assert [r.ok for r in rec.run_once()] == [True]
    _look(objects, rec)
    before = c.get("v1", "ConfigMap", "one")
    assert before is not None
    c.client.patch(ObjectRef(API_VERSION, KIND, "web", c.target_ns), {"spec": {"suspend": True}},
                   content_type="application/merge-patch+json")
    _look(objects, rec)
    assert f"{c.target_ns}/web" not in [s.name for s in rec.sources()]  # suspended: not served
    c.client.delete(API_VERSION, KIND, "web", c.target_ns)
    _look(objects, rec)
    after = c.get("v1", "ConfigMap", "one")
    assert after is not None and after["metadata"]["uid"] == before["metadata"]["uid"], \
        "deleting a suspended Source pruned its objects"
