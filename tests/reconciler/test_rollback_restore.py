"""The roll-back's steps on the real kube-apiserver + etcd (handoff.reconciler.rollback): an object the
rejected revision made immutable is re-created when this source owns it and named as not put back when it
does not; an adopted object gets its pre-pass content and field ownership back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from handoff.reconciler import rollback
from handoff.reconciler.objects import OWNER_LABEL, key_of, ref_of

from .cluster import Cluster, new_cluster

pytestmark = [pytest.mark.tools, pytest.mark.slow]


def _cm(c: Cluster, name: str, data: dict[str, str], *, labels: dict[str, str] | None = None,
        immutable: bool | None = None) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": c.target_ns, **({"labels": labels} if labels else {})},
            "data": data, **({"immutable": immutable} if immutable is not None else {})}


def _cluster(apiserver: Any, git_server: Any, tmp_path: Path) -> Cluster:
    return new_cluster(apiserver, git_server, tmp_path, {"app/cm.yaml": "kind: ConfigMap\n"})


def test_an_owned_object_the_revision_froze_is_re_created_from_the_previous_manifest(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    c = _cluster(apiserver, git_server, tmp_path)
    mine = {OWNER_LABEL: "src"}
    before = c.client.apply(_cm(c, "frozen", {"rev": "1"}, labels=mine))
    c.client.apply(_cm(c, "frozen", {"rev": "2"}, labels=mine, immutable=True))
    previous = _cm(c, "frozen", {"rev": "1"}, labels=mine)
    problem = rollback.restore(c.client, rollback.Updated(key_of(ref_of(previous)), ref_of(previous), before),
                               previous, "src")
    assert problem is None
    live = c.get("v1", "ConfigMap", "frozen")
    assert live is not None and live["data"] == {"rev": "1"} and not live.get("immutable")


def test_an_adopted_object_the_revision_froze_is_named_not_deleted(apiserver: Any, git_server: Any,
                                                                   tmp_path: Path) -> None:
    c = _cluster(apiserver, git_server, tmp_path)
    before = c.client.apply(_cm(c, "operators", {"mode": "operator"}))
    frozen = c.client.apply(_cm(c, "operators", {"mode": "repo"}, labels={OWNER_LABEL: "src"}, immutable=True))
    ref = ref_of({**before, "apiVersion": "v1", "kind": "ConfigMap"})
    problem = rollback.restore(c.client, rollback.Updated(key_of(ref), ref, before), None, "src")
    assert problem is not None and problem.ref == ref
    assert "immutable" in problem.why and "not this source's" in problem.why, problem.why
    live = c.get("v1", "ConfigMap", "operators")
    assert live is not None and live["metadata"]["uid"] == frozen["metadata"]["uid"]  # not deleted


def test_an_adopted_object_gets_its_content_and_field_ownership_back(apiserver: Any, git_server: Any,
                                                                     tmp_path: Path) -> None:
    c = _cluster(apiserver, git_server, tmp_path)
    c.client.apply(_cm(c, "shared", {"mine": "1"}), manager="operator")
    before = c.get("v1", "ConfigMap", "shared")
    assert before is not None
    c.client.apply(_cm(c, "shared", {"mine": "2", "added": "x"}, labels={OWNER_LABEL: "src"}))
    ref = ref_of({**before, "apiVersion": "v1", "kind": "ConfigMap"})
    assert rollback.restore(c.client, rollback.Updated(key_of(ref), ref, before), None, "src") is None
    live = c.get("v1", "ConfigMap", "shared")
    assert live is not None and live["data"] == {"mine": "1"}
    assert OWNER_LABEL not in (live["metadata"].get("labels") or {})
    assert {e["manager"] for e in live["metadata"]["managedFields"]} == {"operator"}


def test_an_adopted_object_that_could_not_be_read_is_named(apiserver: Any, git_server: Any,
                                                           tmp_path: Path) -> None:
    c = _cluster(apiserver, git_server, tmp_path)
    ref = ref_of(_cm(c, "unreadable", {}))
    problem = rollback.restore(c.client, rollback.Updated(key_of(ref), ref, {}), None, "src")
    assert problem is not None and str(problem).startswith(str(ref)) and "could not be read" in problem.why
