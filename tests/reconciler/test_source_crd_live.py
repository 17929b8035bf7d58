"""Source objects, live, against the harness's real kube-apiserver + etcd and git server: the generated
schema is enforced by the API server; create → applied → Ready with the revision; edit the path →
re-rendered from it; the sync-now annotation → a pass and lastHandledRequestedAt; delete with prune →
objects gone; without → kept, owner label removed; team-a rendering into team-b → refused, condition says
why."""

from __future__ import annotations

import base64
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from handoff.cli import main
from handoff.kube.client import KubeError, WatchExpired
from handoff.reconciler.config import Settings
from handoff.reconciler.loop import Reconciler
from handoff.reconciler.objects import OWNER_LABEL
from handoff.reconciler.sourcecrd import API_VERSION, CRD_NAME, KIND, PRUNE_FINALIZER, REQUESTED_AT, crd
from handoff.reconciler.sourceobjects import SourceObjects
from handoff.reconciler.watch import ListWatch
from handoff.report.model import ObjectRef

from .cluster import Cluster, new_cluster

pytestmark = [pytest.mark.tools, pytest.mark.slow]

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}}}\ndata: {{rev: \"{rev}\"}}\n"


def eventually(check: Callable[[], Any], timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (found := check()):
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.2)
    return found


def install_crd(c: Cluster) -> None:
    c.client.apply(crd())

    def established() -> bool:
        got = c.client.get("apiextensions.k8s.io/v1", "CustomResourceDefinition", CRD_NAME) or {}
        return any(x.get("type") == "Established" and x.get("status") == "True"
                   for x in (got.get("status") or {}).get("conditions") or ())

    eventually(established)
    c.client.forget_discovery()


@pytest.fixture
def cluster(apiserver: Any, git_server: Any, tmp_path: Path) -> Cluster:
    c = new_cluster(apiserver, git_server, tmp_path, {"app/cm.yaml": CM.format(name="one", rev=1),
                                                      "other/cm.yaml": CM.format(name="two", rev=1)})
    install_crd(c)
    c.client.apply({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "git", "namespace": c.target_ns},
                    "data": {"token": base64.b64encode(c.token_file.read_bytes()).decode(),
                             "username": base64.b64encode(c.username.encode()).decode()}})
    return c


def source_object(c: Cluster, name: str = "web", **spec: Any) -> dict[str, Any]:
    return {"apiVersion": API_VERSION, "kind": KIND, "metadata": {"name": name, "namespace": c.target_ns},
            "spec": {"url": c.url, "path": "app", "renderer": "plain", "interval": "1s",
                     "secretRef": {"name": "git"}, **spec}}


def get_source(c: Cluster, name: str = "web") -> dict[str, Any] | None:
    return c.client.get(API_VERSION, KIND, name, c.target_ns)


def ready(c: Cluster, name: str = "web") -> dict[str, Any] | None:
    """The Ready condition, read as ``kubectl wait --for=condition=Ready`` reads it."""
    obj = get_source(c, name) or {}
    return next((x for x in (obj.get("status") or {}).get("conditions") or () if x["type"] == "Ready"), None)


@pytest.fixture
def running(cluster: Cluster) -> Iterator[tuple[Reconciler, SourceObjects]]:
    """A reconciler serving only Source objects, its watches and loop on threads, as in the pod."""
    rec = Reconciler(Settings(sources=(), namespace=cluster.control_ns, leader_election=False),
                     cluster.client, cluster.workdir)
    objects = SourceObjects(rec, allow_private_hosts=True)  # the harness's git server is on loopback
    stop = threading.Event()
    objects.start(stop)
    loop = threading.Thread(target=rec.run, args=(stop,), kwargs={"tick": 0.2}, daemon=True)
    loop.start()
    yield rec, objects
    stop.set()
    loop.join(timeout=10)


def test_the_api_server_enforces_the_generated_schema(cluster: Cluster) -> None:
    c = cluster
    created = c.client.create(source_object(c, "valid"))
    assert created["spec"]["revision"] == "main" and created["spec"]["prune"] is True  # schema defaults
    for name, bad in (("no-url", {"url": None}), ("bad-renderer", {"renderer": "jsonnet"}),
                      ("bad-interval", {"interval": "soon"}), ("bad-ns", {"targetNamespace": "Team_B"})):
        obj = source_object(c, name, **bad)
        obj["spec"] = {k: v for k, v in obj["spec"].items() if v is not None}
        with pytest.raises(KubeError) as e:
            c.client.create(obj)
        assert e.value.status == 422, name


def test_create_edit_annotate_and_delete_with_prune(cluster: Cluster,
                                                    running: tuple[Reconciler, SourceObjects]) -> None:
    c = cluster
    rec, _ = running
    c.client.create(source_object(c))
    condition = eventually(lambda: (r := ready(c)) and r["status"] == "True" and r)
    status = (get_source(c) or {})["status"]
    assert len(status["lastAppliedRevision"]) == 40 and status["observedGeneration"] == 1
    assert status["lastAttemptedRevision"] == status["lastAppliedRevision"]
    assert condition["reason"] == "ReconciliationSucceeded" and condition["observedGeneration"] == 1
    assert status["inventory"] == {"count": 1}
    cm = c.get("v1", "ConfigMap", "one")
    assert cm is not None and cm["metadata"]["labels"][OWNER_LABEL] == f"{c.target_ns}.web"
    assert PRUNE_FINALIZER in (get_source(c) or {})["metadata"]["finalizers"]
    assert f"{c.target_ns}/web" in [s.name for s in rec.sources()]

    # edit the path: the new path is rendered, the old path's object pruned
    c.client.patch(ObjectRef(API_VERSION, KIND, "web", c.target_ns), {"spec": {"path": "other"}},
                   content_type="application/merge-patch+json")
    eventually(lambda: c.get("v1", "ConfigMap", "two") is not None and c.get("v1", "ConfigMap", "one") is None)
    eventually(lambda: (get_source(c) or {}).get("status", {}).get("observedGeneration") == 2)

    # the sync-now annotation: a pass, then lastHandledRequestedAt says which request it handled
    c.client.patch(ObjectRef(API_VERSION, KIND, "web", c.target_ns),
                   {"metadata": {"annotations": {REQUESTED_AT: "2026-12-07T00:00:00Z"}}},
                   content_type="application/merge-patch+json")
    eventually(lambda: (get_source(c) or {}).get("status", {}).get("lastHandledRequestedAt")
               == "2026-12-07T00:00:00Z")

    # delete (prune: true): the finalizer holds the object until its objects are gone
    c.client.delete(API_VERSION, KIND, "web", c.target_ns)
    eventually(lambda: get_source(c) is None)
    assert c.get("v1", "ConfigMap", "two") is None
    assert f"{c.target_ns}/web" not in [s.name for s in rec.sources()]
    assert c.client.get("v1", "ConfigMap", f"handoff-inventory-{c.target_ns}.web", c.control_ns) is None


def test_delete_without_prune_orphans_the_objects(cluster: Cluster,
                                                  running: tuple[Reconciler, SourceObjects]) -> None:
    c = cluster
    c.client.create(source_object(c, prune=False))
    eventually(lambda: (r := ready(c)) and r["status"] == "True")
    assert PRUNE_FINALIZER not in ((get_source(c) or {})["metadata"].get("finalizers") or ())
    c.client.delete(API_VERSION, KIND, "web", c.target_ns)
    eventually(lambda: OWNER_LABEL not in ((c.get("v1", "ConfigMap", "one") or {}).get("metadata", {})
                                           .get("labels") or {OWNER_LABEL: ""}))
    assert c.get("v1", "ConfigMap", "one") is not None  # kept
    eventually(lambda: c.client.get("v1", "ConfigMap", f"handoff-inventory-{c.target_ns}.web",
                                    c.control_ns) is None)


def test_a_source_rendering_into_another_namespace_is_refused_with_the_reason(
        cluster: Cluster, running: tuple[Reconciler, SourceObjects]) -> None:
    c = cluster
    other = f"team-b-{uuid.uuid4().hex[:6]}"
    c.client.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": other}})
    c.repo.commit({"escape/cm.yaml": f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: x, namespace: {other}}}\n"
                                     "data: {a: b}\n"}, "reach into team-b")
    c.client.create(source_object(c, path="escape"))
    condition = eventually(lambda: (r := ready(c)) and r["status"] == "False" and r)
    assert condition["reason"] == "AuthorityDenied"
    assert f"ConfigMap/{other}/x (namespace {other} is not granted)" in condition["message"]
    assert c.client.get("v1", "ConfigMap", "x", other) is None  # nothing applied


def test_a_secret_in_another_namespace_is_refused(cluster: Cluster,
                                                  running: tuple[Reconciler, SourceObjects]) -> None:
    c = cluster
    c.client.create(source_object(c, secretRef={"name": "git", "namespace": c.control_ns}))
    condition = eventually(lambda: (r := ready(c)) and r["status"] == "False" and r)
    assert condition["reason"] == "SecretRefDenied"
    assert c.get("v1", "ConfigMap", "one") is None


def test_an_expired_watch_lists_again_and_misses_nothing(cluster: Cluster) -> None:
    c = cluster
    c.client.create(source_object(c, "first"))
    with pytest.raises(WatchExpired):
        list(c.client.watch(API_VERSION, KIND, resource_version="1", timeout_seconds=5))
    seen: list[str] = []
    watch = ListWatch(c.client, API_VERSION, KIND, namespace=c.target_ns, watch_seconds=5,
                      on_change=lambda o: seen.append(o["metadata"]["name"]), on_delete=lambda o: None)
    stop = threading.Event()
    thread = threading.Thread(target=watch.run, args=(stop, "1"), daemon=True)  # a version long gone
    thread.start()
    try:
        eventually(lambda: watch.relists == 1 and "first" in seen)
        c.client.create(source_object(c, "second"))  # and the watch resumes after the relist
        eventually(lambda: "second" in seen)
    finally:
        stop.set()
    c.client.delete(API_VERSION, KIND, "first", c.target_ns)
    c.client.delete(API_VERSION, KIND, "second", c.target_ns)


def test_reconcile_once_serves_the_source_objects(cluster: Cluster, apiserver: Any, capsys: Any) -> None:
    c = cluster
    c.client.create(source_object(c))
    code = main(["reconcile", "--sources-from", "crd", "--allow-private-hosts", "--once",
                 "--kubeconfig", str(apiserver.kubeconfig),
                 "--namespace", c.control_ns, "--workdir", str(c.workdir), "--watch-namespace", c.target_ns])
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"{c.target_ns}/web: Succeeded" in out
    assert c.get("v1", "ConfigMap", "one") is not None
    condition = ready(c)
    assert condition is not None and condition["status"] == "True"


def test_a_changed_secret_takes_effect_without_restart(cluster: Cluster,
                                                      running: tuple[Reconciler, SourceObjects]) -> None:
    c = cluster
    c.client.create(source_object(c))
    eventually(lambda: (r := ready(c)) and r["status"] == "True")
    wrong = base64.b64encode(b"not-the-password").decode()
    c.client.patch(ObjectRef("v1", "Secret", "git", c.target_ns), {"data": {"token": wrong}},
                   content_type="application/merge-patch+json")
    condition = eventually(lambda: (r := ready(c)) and r["status"] == "False" and r)
    assert condition["reason"] == "GitOperationFailed"
    right = base64.b64encode(c.token_file.read_bytes()).decode()
    c.client.patch(ObjectRef("v1", "Secret", "git", c.target_ns), {"data": {"token": right}},
                   content_type="application/merge-patch+json")
    eventually(lambda: (r := ready(c)) and r["status"] == "True")


def test_a_source_waiting_for_its_secret_starts_when_it_appears(cluster: Cluster,
                                                              running: tuple[Reconciler, SourceObjects]) -> None:
    c = cluster
    c.client.create(source_object(c, secretRef={"name": "later"}))
    condition = eventually(lambda: (r := ready(c)) and r["status"] == "False" and r)
    assert condition["reason"] == "SecretNotFound" and "later not found" in condition["message"]
    secret = c.client.get("v1", "Secret", "git", c.target_ns) or {}
    c.client.create({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "later", "namespace": c.target_ns},
                     "data": secret["data"]})
    eventually(lambda: (r := ready(c)) and r["status"] == "True")
