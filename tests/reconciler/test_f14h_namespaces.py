"""A namespace a revision's objects go to that does not exist: one line saying what to run, nothing
applied; with ``createNamespace`` (off by default, as Argo CD's ``CreateNamespace=true``) the source's
target namespace, and only that one, is created when its grant covers it, labelled as the source's and
never listed in the inventory. Real kube-apiserver + etcd and git server."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from handoff.reconciler import inventory
from handoff.reconciler.config import Authority, load_settings
from handoff.reconciler.objects import MANAGED_BY_LABEL, OWNER_LABEL, owner_value
from handoff.reconciler.status import FAILED

from .cluster import new_cluster

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {n}{ns}}}\ndata: {{k: v}}\n"


def _fresh() -> str:
    return f"t-{uuid.uuid4().hex[:8]}"


@pytest.mark.tools
@pytest.mark.slow
def test_a_missing_target_namespace_is_one_line_saying_what_to_run(apiserver: Any, git_server: Any,
                                                                  tmp_path: Path) -> None:
    c = new_cluster(apiserver, git_server, tmp_path, {"app/a.yaml": CM.format(n="a", ns="")})
    missing = _fresh()
    rec = c.reconciler(renderer="plain", namespace=missing)
    result = rec.reconcile(rec.settings.sources[0])
    assert result.result == FAILED and result.error_kind == "apply", result.message
    assert f"namespace {missing} does not exist; run: kubectl create namespace {missing} " \
           "(or set createNamespace: true (--create-namespace) on the source)" in result.message
    assert "404" not in result.message and "\n" not in result.message
    assert c.client.get("v1", "Namespace", missing) is None


@pytest.mark.tools
@pytest.mark.slow
def test_create_namespace_creates_the_target_namespace_labelled_and_unlisted(apiserver: Any, git_server: Any,
                                                                            tmp_path: Path) -> None:
    c = new_cluster(apiserver, git_server, tmp_path, {"app/a.yaml": CM.format(n="a", ns="")})
    target = _fresh()
    rec = c.reconciler(renderer="plain", namespace=target, create_namespace=True)
    source = rec.settings.sources[0]
    result = rec.reconcile(source)
    assert result.ok, result.message
    labels = ((c.client.get("v1", "Namespace", target) or {}).get("metadata") or {}).get("labels") or {}
    assert labels[OWNER_LABEL] == owner_value(source.name) and labels[MANAGED_BY_LABEL] == "handoff"
    assert c.client.get("v1", "ConfigMap", "a", target) is not None
    listed = inventory.read(c.client, rec.settings.namespace, source.name)
    assert listed is not None and [r.kind for r in listed.objects] == ["ConfigMap"]
    assert rec.reconcile(source).ok  # the next pass finds it there


@pytest.mark.tools
@pytest.mark.slow
def test_create_namespace_never_creates_another_namespace(apiserver: Any, git_server: Any,
                                                         tmp_path: Path) -> None:
    other = _fresh()
    c = new_cluster(apiserver, git_server, tmp_path, {
        "app/a.yaml": CM.format(n="a", ns=""), "app/b.yaml": CM.format(n="b", ns=f", namespace: {other}")})
    rec = c.reconciler(renderer="plain", create_namespace=True,
                       authority=Authority(namespaces=(c.target_ns, other), cluster_kinds=("Namespace",)))
    result = rec.reconcile(rec.settings.sources[0])
    assert result.result == FAILED, result.message
    assert f"namespace {other} does not exist; run: kubectl create namespace {other} " \
           "(or add its Namespace object to the repo)" in result.message
    assert c.client.get("v1", "Namespace", other) is None
    assert c.get("v1", "ConfigMap", "a") is None, "nothing of the revision is applied"


@pytest.mark.tools
@pytest.mark.slow
def test_create_namespace_outside_the_grant_is_not_created(apiserver: Any, git_server: Any,
                                                          tmp_path: Path) -> None:
    c = new_cluster(apiserver, git_server, tmp_path, {"app/a.yaml": CM.format(n="a", ns="")})
    target = _fresh()
    # an authority: block that grants the namespace's objects but not the Namespace object itself
    rec = c.reconciler(renderer="plain", namespace=target, create_namespace=True,
                       authority=Authority(namespaces=(target,)))
    result = rec.reconcile(rec.settings.sources[0])
    assert result.result == FAILED, result.message
    assert f"run: kubectl create namespace {target} (createNamespace is set, but the source's grant does " \
           "not cover it: cluster-scoped kind Namespace is not granted)" in result.message
    assert c.client.get("v1", "Namespace", target) is None


def test_the_config_file_sets_create_namespace_and_it_is_off_by_default(tmp_path: Path) -> None:
    path = tmp_path / "reconciler.yaml"
    path.write_text("sources:\n  - {name: a, url: https://git.example/c.git, createNamespace: true}\n"
                    "  - {name: b, url: https://git.example/c.git}\n")
    assert [s.create_namespace for s in load_settings(path).sources] == [True, False]
