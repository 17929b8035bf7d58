"""f18a: a Source object is its uid (status never lands on a successor of the same name), one Source's
bad event stalls that Source only, and free-text spec fields refuse control characters in the schema and
the parser alike. Real kube-apiserver + etcd (and git server) where a cluster is involved."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from handoff.errors import ConfigError
from handoff.kube.client import KubeError
from handoff.reconciler import sourcestatus
from handoff.reconciler.config import Settings
from handoff.reconciler.loop import Reconciler
from handoff.reconciler.sourcecrd import API_VERSION, KIND, crd, parse
from handoff.reconciler.sourceobjects import SourceObjects
from handoff.report.model import ObjectRef

from .cluster import Cluster
from .test_source_crd_live import cluster, get_source, ready, source_object  # noqa: F401 - fixture

RBAC = "rbac.authorization.k8s.io/v1"


def _object(spec: dict[str, object]) -> dict[str, object]:
    return {"apiVersion": API_VERSION, "kind": KIND, "metadata": {"name": "web", "namespace": "team-a"},
            "spec": {"url": "https://git.example.com/c.git", **spec}}


@pytest.mark.parametrize(("spec", "key"), [
    ({"path": "app\x00"}, "spec.path"), ({"path": "app\nx"}, "spec.path"),
    ({"values": ["ok.yaml", "v\x00.yaml"]}, "spec.values"), ({"env": "prod\x1b"}, "spec.env"),
    ({"release": "r\x7f"}, "spec.release"), ({"revision": "main\x00"}, "spec.revision"),
    ({"url": "https://git.example.com/c\x00.git"}, "spec.url"),
])
def test_a_control_character_in_a_free_text_field_is_a_config_error_naming_the_key(
        spec: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError) as refused:
        parse(_object(spec))
    assert refused.value.key == key and "\x00" not in str(refused.value)


def test_the_schema_refuses_control_characters_in_the_same_fields() -> None:
    props = crd()["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]
    for name in ("path", "env", "release", "url", "revision"):
        assert "pattern" in props[name], name
    assert "pattern" in props["values"]["items"]


@pytest.mark.tools
@pytest.mark.slow
def test_a_status_write_for_a_deleted_source_is_refused_by_its_successor(cluster: Cluster) -> None:  # noqa: F811
    """The uid precondition, checked on the API server itself: the write for the old uid is refused and
    leaves the new object's status alone; the write for its own uid lands."""
    c = cluster
    old = c.client.create(source_object(c))
    c.client.delete(API_VERSION, KIND, "web", c.target_ns)
    new = c.client.create(source_object(c))
    status = {"observedGeneration": 1, "lastAppliedRevision": "abc"}
    with pytest.raises(KubeError):
        sourcestatus.patch(c.client, c.target_ns, "web", old["metadata"]["uid"], status)
    assert not (get_source(c) or {}).get("status")
    sourcestatus.patch(c.client, c.target_ns, "web", new["metadata"]["uid"], status)
    assert (get_source(c) or {})["status"]["lastAppliedRevision"] == "abc"


@pytest.mark.tools
@pytest.mark.slow
def test_a_non_utf8_secret_value_names_the_secret_and_key(cluster: Cluster) -> None:  # noqa: F811
    c = cluster
    c.client.apply({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "odd", "namespace": c.target_ns},
                    "data": {"token": base64.b64encode(b"\xff").decode()}})
    rec = Reconciler(Settings(sources=(), namespace=c.control_ns, leader_election=False), c.client, c.workdir)
    objects = SourceObjects(rec, namespace=c.target_ns, allow_private_hosts=True)
    c.client.create(source_object(c, secretRef={"name": "odd"}))
    objects.sources_watch.relist()
    rec.drain()
    condition = ready(c) or {}
    assert condition.get("reason") == "InvalidSpec", condition
    assert f"token in Secret {c.target_ns}/odd is not UTF-8" in condition["message"]
    assert rec.sources() == ()


@pytest.mark.tools
@pytest.mark.slow
def test_an_api_error_reading_a_sources_secret_stalls_that_source_only(cluster: Cluster,  # noqa: F811
                                                                       tmp_path: Path) -> None:
    """A reconciler identity that may read and write Sources but not read Secrets: the 403 on the Secret
    lookup stalls the Source naming one (a reason, one line), the Source naming none is served."""
    c = cluster
    user = "f18a-no-secrets"
    c.client.apply({"apiVersion": RBAC, "kind": "ClusterRole", "metadata": {"name": user}, "rules": [
        {"apiGroups": ["handoff.dev"], "resources": ["sources"], "verbs": ["get", "list", "watch", "patch"]},
        {"apiGroups": ["handoff.dev"], "resources": ["sources/status"], "verbs": ["get", "patch"]}]})
    c.client.apply({"apiVersion": RBAC, "kind": "ClusterRoleBinding", "metadata": {"name": user},
                    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": user},
                    "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}]})
    limited = c.client.impersonating(user)
    rec = Reconciler(Settings(sources=(), namespace=c.control_ns, leader_election=False), limited, tmp_path)
    objects = SourceObjects(rec, namespace=c.target_ns, allow_private_hosts=True)
    c.client.create(source_object(c, "bad"))  # secretRef: git
    c.client.create(source_object(c, "good", secretRef=None))
    objects.sources_watch.relist()
    rec.drain()  # must not raise
    condition = ready(c, "bad") or {}
    assert condition.get("status") == "False" and condition.get("reason") == "APIRequestFailed", condition
    assert "\n" not in condition["message"]
    stalled = next(x for x in (get_source(c, "bad") or {})["status"]["conditions"] if x["type"] == "Stalled")
    assert stalled["status"] == "True"
    assert [s.name for s in rec.sources()] == [f"{c.target_ns}/good"]


@pytest.mark.tools
@pytest.mark.slow
def test_an_edit_that_changes_no_setting_is_observed_at_once_with_the_conditions_kept(
        cluster: Cluster) -> None:  # noqa: F811
    c = cluster
    rec = Reconciler(Settings(sources=(), namespace=c.control_ns, leader_election=False), c.client, c.workdir)
    objects = SourceObjects(rec, namespace=c.target_ns, allow_private_hosts=True)
    c.client.create(source_object(c, interval="1h"))
    objects.sources_watch.relist()
    rec.drain()
    assert [r.ok for r in rec.run_once()] == [True]
    before = ready(c) or {}
    c.client.patch(ObjectRef(API_VERSION, KIND, "web", c.target_ns), {"spec": {"interval": "60m"}},
                   content_type="application/merge-patch+json")
    objects.sources_watch.relist()
    rec.drain()
    after = ready(c) or {}
    assert (get_source(c) or {})["status"]["observedGeneration"] == 2
    assert after["observedGeneration"] == 2 and after["status"] == "True"
    assert {k: after[k] for k in ("reason", "message", "lastTransitionTime")} == \
        {k: before[k] for k in ("reason", "message", "lastTransitionTime")}
    assert rec.due() == []  # nothing to reconcile: the settings are the same
