"""The JUnit and SARIF writers produce documents their consumers' schemas accept."""

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import xmlschema

from handoff.report.model import Finding, ObjectRef, ObjectResult, Severity, ValidationReport
from handoff.report.writers import WRITERS, WriterOptions

REPO = Path(__file__).resolve().parents[2]
JUNIT_XSD = REPO / "tests" / "surfaces" / "schemas" / "junit-10.xsd"
SARIF_SCHEMA = Path(__file__).parent / "schemas" / "sarif-2.1.0-rtm.5.json"

WEB = ObjectRef("apps/v1", "Deployment", "web", "prod")
OLD = ObjectRef("extensions/v1beta1", "Ingress", "old", "")
WIDGET = ObjectRef("example.com/v1", "Widget", "w", "")


def _report() -> ValidationReport:
    """Every shape a report takes: valid, invalid, skipped objects, warnings, a parse error without object."""
    return ValidationReport(
        objects=(ObjectResult(WEB, "apps/web.yaml", 1, "invalid"), ObjectResult(OLD, "apps/old.yaml", 1, "invalid"),
                 ObjectResult(WIDGET, "crs/w.yaml", 1, "skipped", "no schema"),
                 ObjectResult(ObjectRef("v1", "Service", "web", "prod"), "apps/svc.yaml", 1, "valid")),
        findings=(
            Finding(rule="schema/unknown-field", severity=Severity.ERROR, file="apps/web.yaml", line=8, column=3,
                    path="spec.replicsa", object=WEB, engine="builtin",
                    message="unknown field 'replicsa' (strict mode) <&> \"quoted\""),
            Finding(rule="policy/no-latest-tag", severity=Severity.WARNING, file="apps/web.yaml", line=19,
                    column=18, path="spec.template.spec.containers[0].image", object=WEB, engine="cel",
                    message="image uses :latest"),
            Finding(rule="schema/removed-api", severity=Severity.ERROR, file="apps/old.yaml", line=1, column=1,
                    path="apiVersion", object=OLD, engine="builtin",
                    message="extensions/v1beta1 Ingress was removed in Kubernetes 1.22: use networking.k8s.io/v1"),
            Finding(rule="yaml", severity=Severity.ERROR, file="broken.yaml", line=4, column=9, engine="yaml",
                    message="malformed YAML: mapping values are not allowed here"),
            Finding(rule="policy/info", severity=Severity.INFO, file="apps/svc.yaml", line=0, column=0,
                    engine="cel", message="note"),
        ),
    )


def test_junit_output_is_valid_against_the_junit_xsd() -> None:
    text = WRITERS["junit"](_report(), WriterOptions())
    schema = xmlschema.XMLSchema(JUNIT_XSD)
    schema.validate(text)  # raises with the first violation
    suite = ET.fromstring(text).find("testsuite")
    assert suite is not None  # 4 objects, plus 2 findings on no known object
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("6", "3", "1")


def test_empty_reports_are_valid_junit_and_sarif_too() -> None:
    empty = ValidationReport()
    xmlschema.XMLSchema(JUNIT_XSD).validate(WRITERS["junit"](empty, WriterOptions()))
    jsonschema.Draft4Validator(json.loads(SARIF_SCHEMA.read_text())).validate(
        json.loads(WRITERS["sarif"](empty, WriterOptions())))


def test_sarif_output_is_valid_against_the_sarif_2_1_0_schema() -> None:
    sarif = json.loads(WRITERS["sarif"](_report(), WriterOptions()))
    validator = jsonschema.Draft4Validator(json.loads(SARIF_SCHEMA.read_text()))
    errors = sorted(validator.iter_errors(sarif), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]
    results = sarif["runs"][0]["results"]
    assert {r["level"] for r in results} == {"error", "warning", "note"}
    rules = [r["id"] for r in sarif["runs"][0]["tool"]["driver"]["rules"]]
    assert all(rules[r["ruleIndex"]] == r["ruleId"] for r in results)
