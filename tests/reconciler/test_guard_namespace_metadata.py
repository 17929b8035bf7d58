"""A Namespace object's labels and annotations decide more than the object (its Pod Security level is the
admission of every Pod in it): a source sets only the keys its grant's ``namespaceMetadata`` lists, none
under the default grant, and a Pod Security key only by a pattern that spells its prefix out (units, then a
real kube-apiserver + etcd and git server)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from handoff.reconciler.authority import grant_of, why_object_denied
from handoff.reconciler.config import Authority, load_settings
from handoff.reconciler.objects import MANAGED_BY_LABEL, OWNER_LABEL
from handoff.reconciler.status import REFUSED, SUCCEEDED
from handoff.reconciler.tenancy import authority_for, parse_tenants

from .cluster import new_cluster
from .test_guard_identity import SETTINGS

PSA = "pod-security.kubernetes.io/enforce"
CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\ndata: {rev: \"1\"}\n"


def namespace(name: str, labels: dict[str, str] | None = None,
              annotations: dict[str, str] | None = None) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": name, "labels": {OWNER_LABEL: "a", MANAGED_BY_LABEL: "handoff", **(labels or {})},
                         "annotations": annotations or {}}}


def test_the_default_grant_lets_its_namespace_carry_no_label_or_annotation_of_its_own() -> None:
    grant = grant_of(SETTINGS.sources[0])  # namespace "default"
    assert why_object_denied(namespace("default"), grant) == ""
    assert why_object_denied(namespace("default", {"kubernetes.io/metadata.name": "default"}), grant) == ""
    assert why_object_denied(namespace("default", {PSA: "privileged"}), grant) == \
        f"label {PSA} on a Namespace is not granted (namespaceMetadata)"
    assert "label team" in why_object_denied(namespace("default", {"team": "a"}), grant)
    assert "annotation owner" in why_object_denied(namespace("default", annotations={"owner": "x"}), grant)


def test_an_explicit_grant_allows_every_key_but_pod_security_unless_it_spells_that_out() -> None:
    wide = grant_of(SETTINGS.sources[0].__class__(name="a", url="https://git.example/x.git",
                                                  authority=Authority(cluster_kinds=("Namespace",))))
    assert why_object_denied(namespace("x", {"team": "a"}, {"owner": "me"}), wide) == ""
    for key in (PSA, "pod-security.kubernetes.io/enforce-version", "pod-security.kubernetes.io/warn"):
        assert "not granted" in why_object_denied(namespace("x", {key: "privileged"}), wide)
    psa = Authority(cluster_kinds=("Namespace",), namespace_metadata=("*", "pod-security.kubernetes.io/*"))
    allowed = grant_of(SETTINGS.sources[0].__class__(name="a", url="https://git.example/x.git", authority=psa))
    assert why_object_denied(namespace("x", {PSA: "privileged", "team": "a"}), allowed) == ""
    only_team = Authority(cluster_kinds=("Namespace",), namespace_metadata=("team",))
    narrow = grant_of(SETTINGS.sources[0].__class__(name="a", url="https://git.example/x.git",
                                                    authority=only_team))
    assert "label other" in why_object_denied(namespace("x", {"team": "a", "other": "b"}), narrow)


def test_namespace_metadata_is_read_from_the_config_file_and_the_tenants_file(tmp_path: Path) -> None:
    config = tmp_path / "reconciler.yaml"
    config.write_text("namespace: handoff-system\nsources:\n  - name: a\n    url: https://git.example/x.git\n"
                      "    authority: {clusterKinds: [Namespace], namespaceMetadata: [team, "
                      "'pod-security.kubernetes.io/warn']}\n")
    authority = load_settings(config).sources[0].authority
    assert authority is not None
    assert authority.namespace_metadata == ("team", "pod-security.kubernetes.io/warn")
    tenants = parse_tenants([{"namespaces": ["team-*"], "authority": {"namespaceMetadata": ["team"]}}])
    assert authority_for("team-a", tenants, "handoff-system").namespace_metadata == ("team",)
    assert authority_for("other", tenants, "handoff-system").namespace_metadata == ()


@pytest.mark.tools
@pytest.mark.slow
def test_a_source_creating_its_namespace_sets_only_granted_keys(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    """Under the default grant neither a first-use Namespace nor an existing one may carry a Pod Security
    label; a grant listing the key lets the same revision through."""
    c = new_cluster(apiserver, git_server, tmp_path, {"app/cm.yaml": CM})
    fresh = f"{c.target_ns}-new"
    ns = f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {fresh}\n  labels: {{{PSA}: privileged}}\n"
    c.repo.commit({"app/ns.yaml": ns}, "create my namespace, privileged")
    rec = c.reconciler(renderer="plain", namespace=fresh)
    source = rec.settings.sources[0]
    refused = rec.reconcile(source)
    assert refused.result == REFUSED and f"label {PSA} on a Namespace is not granted" in refused.message
    assert c.client.get("v1", "Namespace", fresh) is None
    granted = c.reconciler(renderer="plain", namespace=fresh, authority=Authority(
        namespaces=(fresh,), cluster_kinds=("Namespace",), namespace_metadata=(PSA,)))
    applied = granted.reconcile(granted.settings.sources[0])
    assert applied.result == SUCCEEDED, applied.message
    live = c.client.get("v1", "Namespace", fresh)
    assert live is not None and live["metadata"]["labels"][PSA] == "privileged"
