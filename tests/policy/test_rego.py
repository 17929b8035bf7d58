"""conftest-style Rego through regopy: rule families, namespaces, messages and errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from handoff.errors import ConfigError
from handoff.policy.fixtures import objects_from_yaml
from handoff.policy.model import PolicyContext
from handoff.policy.rego import RegoEngine
from handoff.report.model import Severity

FIXTURES = Path(__file__).parent / "fixtures" / "rego"


def test_rules_become_findings_on_the_object_line() -> None:
    engine = RegoEngine([FIXTURES / "k8s.rego"])
    objects = objects_from_yaml((FIXTURES / "manifests.yaml").read_text(), "manifests.yaml")
    findings = engine.evaluate(objects, PolicyContext()).findings
    assert [(f.line, f.rule, f.severity) for f in findings] == [
        (1, "main.deny", Severity.ERROR),
        (1, "main.violation", Severity.ERROR),
        (29, "main.deny_missing_app_label", Severity.ERROR),
        (29, "main.warn", Severity.WARNING),
    ]
    assert findings[0].object is not None and findings[0].object.name == "root-latest"


def test_other_namespace(tmp_path: Path) -> None:
    (tmp_path / "p.rego").write_text('package k8s.labels\nimport rego.v1\n'
                                     'deny contains "no labels" if { not input.metadata.labels }\n')
    objects = objects_from_yaml("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n", "m.yaml")
    assert RegoEngine([tmp_path / "p.rego"]).evaluate(objects, PolicyContext()).findings == ()
    [finding] = RegoEngine([tmp_path / "p.rego"], namespaces=["k8s.labels"]).evaluate(objects, PolicyContext()).findings
    assert (finding.rule, finding.message) == ("k8s.labels.deny", "no labels")


def test_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.rego"
    bad.write_text("package main\nimport rego.v1\n\ndeny contains msg if {\n")
    with pytest.raises(ConfigError) as info:
        RegoEngine([bad])
    assert f"{bad}:4: Rego: this is unclosed" in str(info.value)
