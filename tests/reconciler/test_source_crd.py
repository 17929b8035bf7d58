"""The Source CRD from one model: spec → Source → spec round-trips, the Python checks and the schema agree,
the docs carry the generated table, status follows kstatus, and a namespace's default grant is its own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from handoff.cli import main
from handoff.errors import ConfigError
from handoff.reconciler import sourcecrd, sourcestatus
from handoff.reconciler.objects import owner_value
from handoff.reconciler.sourcecrd import SPEC, SecretFiles, check, crd, parse, to_spec
from handoff.reconciler.status import FAILED, SUCCEEDED, PassResult
from handoff.reconciler.tenancy import Tenant, authority_for, load_tenants, parse_tenants

DOCS = Path(__file__).resolve().parents[2] / "docs" / "reconciler.md"


def _object(spec: dict[str, Any], namespace: str = "team-a", name: str = "web") -> dict[str, Any]:
    return {"apiVersion": sourcecrd.API_VERSION, "kind": "Source",
            "metadata": {"namespace": namespace, "name": name, "generation": 3}, "spec": spec}


FULL = {"url": "https://git.example.com/org/config.git", "revision": "release-1", "path": "envs/prod",
        "renderer": "helm", "targetNamespace": "team-a-apps", "interval": "5m", "prune": False,
        "selfHeal": True, "driftMode": "warn", "env": "prod", "values": ["values/prod.yaml"],
        "release": "web", "secretRef": {"name": "git"}, "verify": {"mode": "ssh", "secretRef": {"name": "keys"}},
        "serviceAccountName": "deployer", "suspend": True}


def test_a_full_spec_round_trips_through_source(tmp_path: Path) -> None:
    files = {"git": SecretFiles(tmp_path / "git", frozenset({"token"})),
             "keys": SecretFiles(tmp_path / "keys", frozenset({"allowed_signers"}))}
    parsed = parse(_object(FULL), secrets=files)
    s = parsed.source
    assert s.name == "team-a/web" and s.namespace == "team-a-apps" and s.interval == 300.0
    assert s.credentials.token_file == str(tmp_path / "git" / "token")
    assert s.verify.allowed_signers == str(tmp_path / "keys" / "allowed_signers")
    assert s.service_account == "team-a/deployer" and parsed.suspend and parsed.generation == 3
    assert to_spec(parsed) == FULL
    assert parse(_object(to_spec(parsed)), secrets=files) == parsed


def test_defaults_come_from_the_model_and_fill_the_spec() -> None:
    parsed = parse(_object({"url": "https://git.example.com/c.git"}))
    assert parsed.source.revision == "main" and parsed.source.namespace == "team-a"
    assert parsed.source.interval == 60.0 and parsed.source.prune and not parsed.suspend
    spec = to_spec(parsed)
    for field in SPEC:
        if field.default is not None:
            assert spec[field.name] == field.default, field.name


def test_every_spec_field_is_in_the_schema_with_its_rules() -> None:
    schema = crd()["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    assert set(schema["properties"]) == {f.name for f in SPEC}
    assert schema["required"] == ["url"]
    assert schema["properties"]["renderer"]["enum"] == list(sourcecrd.RENDERERS)
    assert schema["properties"]["interval"]["default"] == "1m"
    assert set(to_spec(parse(_object(FULL), secrets={
        "git": SecretFiles(Path("/x"), frozenset()), "keys": SecretFiles(Path("/y"), frozenset())}))) <= \
        set(schema["properties"])


@pytest.mark.parametrize(("spec", "key"), [
    ({}, "spec.url"),
    ({"url": "https://h/c.git", "renderer": "jsonnet"}, "spec.renderer"),
    ({"url": "https://h/c.git", "interval": "soon"}, "spec.interval"),
    ({"url": "https://h/c.git", "prune": "yes"}, "spec.prune"),
    ({"url": "https://h/c.git", "targetNamespace": "Team_B"}, "spec.targetNamespace"),
    ({"url": "https://tok@h/c.git"}, "spec.url"),
    ({"url": "https://h/c.git", "secretRef": {"name": "git", "namespace": "team-b"}}, "spec.secretRef"),
    ({"url": "https://h/c.git", "secretRef": {"name": "missing"}}, "spec.secretRef"),
    ({"url": "https://h/c.git", "verify": {"mode": "gpg"}}, "spec.verify.secretRef"),
])
def test_a_bad_spec_names_the_object_and_key(spec: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError) as e:
        parse(_object(spec))
    assert e.value.key == key and e.value.file == "Source team-a/web"
    assert "\n" not in str(e.value)


def test_a_cross_namespace_secret_is_refused_by_name() -> None:
    check({"url": "https://h/c.git", "secretRef": {"name": "git", "namespace": "team-b"}})  # schema: fine
    with pytest.raises(ConfigError, match="only reference Secrets in its own namespace"):
        parse(_object({"url": "https://h/c.git", "secretRef": {"name": "git", "namespace": "team-b"}}))


def test_the_docs_carry_the_generated_spec_table() -> None:
    assert sourcecrd.docs_table() in DOCS.read_text(encoding="utf-8")


def test_cr_names_become_valid_label_values_and_object_names() -> None:
    assert owner_value("web") == "web"
    assert owner_value("team-a/web") == "team-a.web"
    long = owner_value("a" * 63 + "/" + "b" * 200)
    assert len(long) == 63 and long[-1].isalnum()
    assert owner_value("a" * 63 + "/" + "b" * 200) != owner_value("a" * 63 + "/" + "b" * 199)


def test_status_follows_kstatus_and_keeps_transition_times() -> None:
    obj = parse(_object({"url": "https://h/c.git"}))
    ok = sourcestatus.status_of(obj, PassResult(source="team-a/web", result=SUCCEEDED, message="applied",
                                                attempted_revision="a" * 40, applied_revision="a" * 40,
                                                objects=4))
    ready = {c["type"]: c for c in ok["conditions"]}
    assert ready["Ready"]["status"] == "True" and ready["Stalled"]["status"] == "False"
    assert ok["observedGeneration"] == 3 and ok["lastAppliedRevision"] == "a" * 40
    assert ok["inventory"] == {"count": 4}
    old = {**ok, "conditions": [{**c, "lastTransitionTime": "2020-01-01T00:00:00Z"} for c in ok["conditions"]]}
    again = sourcestatus.merged(old, ok)
    assert again == old  # nothing changed: nothing to write
    denied = sourcestatus.status_of(obj, PassResult(source="team-a/web", result=FAILED, message="x" * 5000,
                                                    error_kind="authority"))
    cond = {c["type"]: c for c in denied["conditions"]}
    assert cond["Ready"]["reason"] == "AuthorityDenied" and cond["Stalled"]["status"] == "True"
    assert len(cond["Ready"]["message"]) <= 1000
    retry = sourcestatus.status_of(obj, PassResult(source="team-a/web", result=FAILED, error_kind="git"))
    assert {c["type"]: c["status"] for c in retry["conditions"]}["Reconciling"] == "True"


def test_a_namespace_gets_its_own_namespace_unless_a_tenant_grants_more() -> None:
    default = authority_for("team-a", (), "handoff-system")
    assert default.namespaces == ("team-a",) and default.cluster_kinds == ()
    tenants = parse_tenants([{"namespaces": ["team-*"],
                              "authority": {"namespaces": ["{namespace}", "{namespace}-*"]}}])
    granted = authority_for("team-b", tenants, "handoff-system")
    assert granted.namespaces == ("team-b", "team-b-*") and "handoff-system" in granted.denied_namespaces
    assert authority_for("other", tenants, "hs") == authority_for("other", (), "hs")
    assert isinstance(tenants[0], Tenant)
    with pytest.raises(ConfigError):
        parse_tenants([{"authority": {}}])


def test_the_emitted_crd_passes_handoff_validate_plain(tmp_path: Path, capsys: Any) -> None:
    assert main(["reconciler", "manifests"]) == 0
    text = capsys.readouterr().out
    (tmp_path / "install.yaml").write_text(text)
    assert "kind: CustomResourceDefinition" in text
    assert main(["validate", "--plain", "--config-repo", str(tmp_path), str(tmp_path / "install.yaml")]) == 0


def test_tenants_file_is_read_with_file_and_key_errors(tmp_path: Path) -> None:
    good = tmp_path / "tenants.yaml"
    good.write_text("tenants:\n  - namespaces: [team-*]\n    authority: {namespaces: ['{namespace}-*']}\n")
    assert load_tenants(good)[0].authority.namespaces == ("{namespace}-*",)
    bad = tmp_path / "bad.yaml"
    bad.write_text("tenants:\n  - authority: {}\n")
    with pytest.raises(ConfigError) as e:
        load_tenants(bad)
    assert e.value.file == str(bad) and e.value.key == "tenants[0]"
