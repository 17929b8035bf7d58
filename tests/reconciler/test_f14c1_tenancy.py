"""f14c1 (atk14c C12): under a tenants file, a tenant's grant never reaches a namespace another tenant
pattern matches, whatever its globs say; of those namespaces only its own. The documented example
(docs/reconciler.md, Tenancy) gives each tenant exactly its own names."""

from __future__ import annotations

import re
from pathlib import Path

from handoff.reconciler.authority import why_denied
from handoff.reconciler.tenancy import authority_for, load_tenants, parse_tenants
from handoff.report.model import ObjectRef

DOCS = Path(__file__).resolve().parents[2] / "docs" / "reconciler.md"


def _cm(namespace: str) -> ObjectRef:
    return ObjectRef("v1", "ConfigMap", "settings", namespace)


def test_a_wide_glob_does_not_reach_another_tenants_namespace() -> None:
    tenants = parse_tenants([{"namespaces": ["team-*"],
                              "authority": {"namespaces": ["{namespace}", "{namespace}-*", "shared-*"]}},
                             {"namespaces": ["shared-owned"], "authority": {"namespaces": ["{namespace}"]}}])
    grant = authority_for("team-a", tenants, "handoff-system")
    assert why_denied(_cm("team-a"), grant) == ""
    assert "another tenant's" in why_denied(_cm("team-a-b"), grant)  # team-* names it a tenant
    assert "another tenant's" in why_denied(_cm("shared-owned"), grant)  # a later tenant's too
    assert why_denied(_cm("shared-cache"), grant) == ""  # no tenant pattern matches it
    assert "not granted" in why_denied(_cm("elsewhere"), grant)
    # the namespace of the other tenant gets its own namespace, not team-a's
    other = authority_for("team-a-b", tenants, "handoff-system")
    assert why_denied(_cm("team-a-b"), other) == "" and why_denied(_cm("team-a"), other)


def test_the_default_grant_and_the_control_namespace_are_unchanged() -> None:
    tenants = parse_tenants([{"namespaces": ["team-*"], "authority": {"namespaces": ["*"]}}])
    assert authority_for("other", tenants, "hs") == authority_for("other", (), "hs")
    grant = authority_for("team-a", tenants, "hs")
    assert "denied" in why_denied(_cm("hs"), grant)


def test_the_documented_tenants_file_gives_each_tenant_only_its_own_names(tmp_path: Path) -> None:
    text = DOCS.read_text(encoding="utf-8")
    example = re.search(r"```yaml\n(tenants:\n.*?)```", text, re.DOTALL)
    assert example is not None
    path = tmp_path / "tenants.yaml"
    path.write_text(example.group(1), encoding="utf-8")
    tenants = load_tenants(path)
    names = ("team-a", "team-a-b", "team-ab", "apps-team-a", "apps-team-a-b")
    reach = {ns: {n for n in names if not why_denied(_cm(n), authority_for(ns, tenants, "hs"))}
             for ns in ("team-a", "team-a-b")}
    assert reach["team-a"] & reach["team-a-b"] == set(), reach
    assert "team-a" in reach["team-a"] and "team-a-b" in reach["team-a-b"]
