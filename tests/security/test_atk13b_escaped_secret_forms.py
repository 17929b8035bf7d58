"""atk13b, the class behind the escaped PR-body secret: a Secret's value copied into another field (an env
var, an annotation) must not reach a rendered diff, a file diff or a finding in any form a reader can
decode back: YAML double-quoted escapes (``\\xE9``, ``\\u00e9``, ``\\t``, ``\\"``), a line folded with a
trailing backslash, single-quote doubling, block scalars, JSON escapes. The rendered diff masks copies
in the structure before it is serialised (``manifests.sensitive.masked_object``); free text goes
through ``scrub``, which also decodes each quoted scalar.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, Literal

import pytest
import yaml

from handoff.manifests.canonical import canonical_yaml
from handoff.manifests.model import RenderedObject
from handoff.manifests.sensitive import scrub, secret_strings
from handoff.redact import encoded_forms, forget_all, register
from handoff.report.model import Finding, Severity, ValidationReport
from handoff.validate import masked
from handoff.workflows.propose import rendered_diff

VALUES = {
    "non-ascii": "Tr0ub4dor-caf\u00e9-kept",
    "astral": "Tr0ub4dor-\U0001f511-kept",
    "tab": "Tr0ub4dor-tab\there-kept",
    "double-quote": 'Tr0ub4dor-"quoted"-kept',
    "backslash": "Tr0ub4dor-back\\slash-kept",
    "single-quote": "Tr0ub4dor-it's-kept",
    "line-break": "Tr0ub4dor-first\nsecond-line-kept",
    "long": "Tr0ub4dor-" + "x" * 120 + "-kept",
    "spaces-long": "Tr0ub4dor " + "word " * 30 + "kept",
    "leading-space": " Tr0ub4dor-kept",
    "control": "Tr0ub4dor-\x07bell-kept",
}


def _objects(value: str, image: str) -> list[RenderedObject]:
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"}, "stringData": {"password": value}}
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {
        "name": "web", "annotations": {"note": f"pw={value};", value: "as a key"}}, "spec": {"template": {"spec": {
            "containers": [{"name": "web", "image": image, "env": [{"name": "DB_PASSWORD", "value": value}]}]}}}}
    return [RenderedObject(secret, "chart/templates/secret.yaml", 1),
            RenderedObject(deployment, "chart/templates/deployment.yaml", 1)]


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield str(key)
            yield from _strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)
    elif isinstance(node, str):
        yield node


def _forms(value: str) -> set[str]:
    """What a reader could search a text for: raw, encoded, JSON- and YAML-escaped."""
    forms = set(encoded_forms(value)) | {json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]}
    for unicode in (True, False):
        forms.add(yaml.safe_dump(value, default_style='"', allow_unicode=unicode, width=1 << 30).strip()[1:-1])
    return {f for f in forms if len(f) >= 4}


@pytest.mark.parametrize("value", VALUES.values(), ids=VALUES.keys())
def test_a_rendered_diff_holds_no_decodable_copy_of_a_secret(value: str) -> None:
    before, after = _objects(value, "web:1.0.0"), _objects(value, "web:1.1.0")
    sides: tuple[tuple[Literal["before", "after"], list[RenderedObject], list[RenderedObject]], ...] = (
        ("before", before, after), ("after", after, before))
    for side, objects, other in sides:
        shown = canonical_yaml(objects, against=other, side=side)
        decoded = [s for doc in yaml.safe_load_all(shown) if doc for s in _strings(doc) if value in s]
        assert not decoded, f"the {side} side decodes back to the Secret's value: {decoded}"
    diff = rendered_diff(before, after, "dev")
    assert "web:1.1.0" in diff
    assert not [f for f in _forms(value) if f in diff], diff


# how a values file (the bump's file diff shows its lines) may write the same value
WRITTEN = {
    "hex-escape": ('password: "Tr0ub4dor-caf\\xE9-kept"', VALUES["non-ascii"]),
    "unicode-escape": ('password: "Tr0ub4dor-caf\\u00e9-kept"', VALUES["non-ascii"]),
    "letter-escapes": ('password: "\\x54r0ub4dor-t\\u0061b\\there-kept"', VALUES["tab"]),
    "escaped-quote": ('password: "Tr0ub4dor-\\"quoted\\"-kept"', VALUES["double-quote"]),
    "single-quote-doubling": ("password: 'Tr0ub4dor-it''s-kept'", VALUES["single-quote"]),
    "folded-with-backslash": ('password: "Tr0ub4dor-\\\n   tab\\there-kept"', VALUES["tab"]),
    "folded-inside-a-diff": ('+password: "Tr0ub4dor-\\\n+  tab\\there-kept"', VALUES["tab"]),
    "json-string": ('{"password": "Tr0ub4dor-tab\\there-kept"}', VALUES["tab"]),
    "repr": ("password is 'Tr0ub4dor-tab\\there-kept'", VALUES["tab"]),
}


@pytest.mark.parametrize(("text", "value"), WRITTEN.values(), ids=WRITTEN.keys())
def test_free_text_holds_no_quoted_scalar_that_decodes_to_a_secret(text: str, value: str) -> None:
    secrets = secret_strings(o.obj for o in _objects(value, "web:1"))
    shown = scrub(f"@@ -1,3 +1,3 @@\n image: web:1 # handoff:image web\n{text}\n", secrets)
    assert "<secret sha256:" in shown, shown
    assert "Tr0ub4dor" not in shown and "r0ub4dor" not in shown, shown


def test_a_block_scalar_of_key_material_is_masked_line_by_line() -> None:
    key = "-----BEGIN KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nBKcwggSjAgEAAoIBAQC7Vx8kept1234\n-----END KEY-----\n"
    secrets = secret_strings([_objects(key, "web:1")[0].obj])
    text = "  tls.key: |\n    MIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n    BKcwggSjAgEAAoIBAQC7Vx8kept1234\n"
    shown = scrub(text, secrets)
    assert "MIIEvQIBADANBgkq" not in shown and "BKcwggSjAgEA" not in shown, shown
    assert "tls.key: |" in shown


def test_findings_quoting_an_escaped_copy_are_masked() -> None:
    value = VALUES["tab"]
    objects = _objects(value, "web:1")
    quoted = [f"env DB_PASSWORD is {json.dumps(value)}", f"value {value!r} is weak",
              'annotation note: "pw=Tr0ub4dor-tab\\there-kept;"']
    report = ValidationReport(findings=tuple(Finding("policy/x", Severity.ERROR, m, "f.yaml", 1) for m in quoted))
    shown = masked(report, secret_strings(o.obj for o in objects))
    assert not [f.message for f in shown.findings if "r0ub4dor" in f.message], shown.findings


@pytest.fixture
def registered_token() -> Iterator[str]:
    token = "tok\u00e9n-registered-atk13b"
    register(token)
    yield token
    forget_all()


def test_a_registered_secret_is_masked_in_the_structure_too(registered_token: str) -> None:
    config_map = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"},
                  "data": {"token": f"\t{registered_token}"}}
    shown = canonical_yaml([RenderedObject(config_map, "c.yaml", 1)])
    assert "n-registered-atk13b" not in shown, shown
    assert "***" in shown
