"""What CI shows of a report: JUnit with one testcase per (environment, file, object) and the summary's
counts; SARIF that tracks a finding across line moves and describes every rule; one markdown table."""

from __future__ import annotations

import json
import os
import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import jsonschema
import pytest
import xmlschema
from hypothesis import HealthCheck, given, settings

from handoff.cli import main
from handoff.policy.loader import load_policy_sets
from handoff.policy.pack import rule_docs
from handoff.report import ci_outputs
from handoff.report.model import Finding, ObjectRef, ObjectResult, Severity, ValidationReport
from handoff.report.rules import FIXED_RULES, anchor
from handoff.report.writers import WRITERS, WriterOptions
from handoff.report.writers.markdown import findings_table
from tests.validate.helpers import DEPLOYMENT, check, write_tree
from tests.validate.test_report_model import REPORT

EXAMPLES = int(os.environ.get("HANDOFF_FUZZ_EXAMPLES", "200"))
REPO = Path(__file__).resolve().parents[2]
JUNIT_XSD = REPO / "tests" / "surfaces" / "schemas" / "junit-10.xsd"
SARIF_SCHEMA = Path(__file__).parent / "schemas" / "sarif-2.1.0-rtm.5.json"
WEB = ObjectRef("apps/v1", "Deployment", "web", "")
TYPO = DEPLOYMENT.replace("  replicas: 2", "  replicsa: 2")


def junit(report: ValidationReport) -> ET.Element:
    text = WRITERS["junit"](report, WriterOptions())
    xmlschema.XMLSchema(JUNIT_XSD).validate(text)
    return ET.fromstring(text)


def two_environments(tmp_path: Path) -> ValidationReport:
    """dev and prod render the same file to the same object, with the same typo: two invalid objects."""
    write_tree(tmp_path, {"apps/web.yaml": TYPO})
    dev, prod = check(tmp_path, "apps"), check(tmp_path, "apps")
    return dev.for_environment("dev").merge(prod.for_environment("prod"))


def test_two_environments_failing_on_one_object_are_two_testcases(tmp_path: Path) -> None:
    report = two_environments(tmp_path)
    assert report.summary() == "2 objects in 1 file: 0 valid, 2 invalid, 0 skipped"
    root = junit(report)
    assert (root.get("tests"), root.get("failures")) == ("2", "2")
    suites = root.findall("testsuite")
    assert [(s.get("name"), s.get("tests"), s.get("failures")) for s in suites] == [
        ("handoff validate (dev)", "1", "1"), ("handoff validate (prod)", "1", "1")]
    cases = root.iter("testcase")
    assert [(c.get("classname"), c.get("name")) for c in cases] == [
        ("dev/apps/web.yaml", "Deployment/web"), ("prod/apps/web.yaml", "Deployment/web")]
    assert all("replicsa" in (f.text or "") for f in root.iter("failure"))


def test_an_untagged_report_still_counts_every_invalid_object(tmp_path: Path) -> None:
    """Without environment tags the findings cannot be told apart, but the verdicts still are."""
    write_tree(tmp_path, {"apps/web.yaml": TYPO})
    report = check(tmp_path, "apps").merge(check(tmp_path, "apps"))
    root = junit(report)
    assert (root.get("tests"), root.get("failures")) == ("2", "2")
    assert report.counts().invalid == 2


def test_a_values_file_finding_lands_on_its_object_and_an_error_makes_it_invalid() -> None:
    report = ValidationReport(
        objects=(ObjectResult(WEB, "charts/web/templates/deploy.yaml", 1, "valid", environment="prod"),
                 ObjectResult(WEB, "charts/web/templates/deploy.yaml", 1, "valid", environment="dev")),
        findings=(Finding("require-image-digest", Severity.ERROR, "not pinned", "charts/web/values-prod.yaml", 4,
                          object=WEB, environment="prod"),),
    )
    prod, dev = report.cases()
    assert (prod.status, [f.rule for f in prod.findings]) == ("invalid", ["require-image-digest"])
    assert (dev.status, dev.findings) == ("valid", ())
    root = junit(report)
    assert (root.get("tests"), root.get("failures")) == ("2", "1")
    assert report.summary() == "2 objects in 1 file: 1 valid, 1 invalid, 0 skipped"


def test_a_file_that_does_not_parse_is_counted_in_the_summary_and_in_junit(tmp_path: Path) -> None:
    write_tree(tmp_path, {"web.yaml": DEPLOYMENT, "bad.yaml": "kind: ConfigMap\n  name: : x\n"})
    report = check(tmp_path)
    assert report.summary() == ("1 object in 1 file: 1 valid, 0 invalid, 0 skipped; "
                                "1 file with findings on no checked object (1 failing)")
    root = junit(report)
    assert (root.get("tests"), root.get("failures")) == ("2", "1")


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(REPORT)
def test_junit_counts_are_the_summary_counts(report: ValidationReport) -> None:
    counts = report.counts()
    root = ET.fromstring(WRITERS["junit"](report, WriterOptions()).split("\n", 1)[1])
    cases = list(root.iter("testcase"))
    assert int(root.get("tests", "")) == len(cases) == counts.cases == counts.objects + counts.unattached
    assert int(root.get("failures", "")) == counts.failing == counts.invalid + counts.unattached_failing
    assert sum(1 for c in cases if c.find("failure") is not None) == counts.failing
    assert sum(int(s.get("skipped", "")) for s in root.iter("testsuite")) == counts.skipped
    data = json.loads(WRITERS["json"](report, WriterOptions()))["summary"]
    assert (data["objects"], data["invalid"], data["skipped"]) == (counts.objects, counts.invalid, counts.skipped)


def sarif(report: ValidationReport, options: WriterOptions | None = None) -> dict[str, object]:
    data: dict[str, object] = json.loads(WRITERS["sarif"](report, options or WriterOptions()))
    jsonschema.Draft4Validator(json.loads(SARIF_SCHEMA.read_text())).validate(data)
    return data


def results(data: dict[str, object]) -> list[dict[str, object]]:
    return data["runs"][0]["results"]  # type: ignore[index, no-any-return]


def test_sarif_fingerprints_survive_line_moves_and_tell_objects_apart() -> None:
    finding = Finding("schema/unknown-field", Severity.ERROR, "unknown field 'replicsa'", "apps/web.yaml", 8, 3,
                      "spec.replicsa", WEB, environment="prod")
    moved = replace(finding, line=30, column=5, message="unknown field 'replicsa' (strict mode)")
    others = [replace(finding, path="spec.template"), replace(finding, environment="dev"),
              replace(finding, object=replace(WEB, name="api")), replace(finding, rule="schema")]

    def prints(*findings: Finding) -> list[object]:
        return [r["partialFingerprints"] for r in results(sarif(ValidationReport(findings=findings)))]

    assert prints(finding) == prints(moved)
    assert len({json.dumps(p) for p in prints(finding, *others)}) == 5


def test_sarif_describes_schema_and_pack_rules_and_links_the_docs() -> None:
    report = ValidationReport(findings=(
        Finding("schema/unknown-field", Severity.ERROR, "m", "a.yaml", 1, object=WEB),
        Finding("disallow-latest-tag", Severity.ERROR, "m", "a.yaml", 2, object=WEB),
        Finding("main.deny", Severity.ERROR, "m", "a.yaml", 3, object=WEB),
    ))
    docs = rule_docs(load_policy_sets([]).policies)
    rules = {r["id"]: r for r in sarif(report, WriterOptions(rules=docs))["runs"][0]["tool"]["driver"]["rules"]}
    pack = docs["disallow-latest-tag"]
    assert rules["disallow-latest-tag"]["shortDescription"]["text"] == pack.short
    assert rules["disallow-latest-tag"]["fullDescription"]["text"].startswith(pack.short + "\n\n")
    assert rules["disallow-latest-tag"]["helpUri"].endswith("/docs/policies.md#disallow-latest-tag")
    assert rules["schema/unknown-field"]["shortDescription"]["text"] == FIXED_RULES["schema/unknown-field"].short
    assert rules["schema/unknown-field"]["helpUri"].endswith("/docs/policies.md#schemaunknown-field")
    # a rule nobody documents (a Rego package's) is named, not linked
    assert rules["main.deny"]["shortDescription"]["text"] == "main.deny" and "helpUri" not in rules["main.deny"]


def test_every_linked_rule_has_its_section_in_docs_policies() -> None:
    headings = {anchor(m) for m in re.findall(r"^#{1,6} (.+)$", (REPO / "docs" / "policies.md").read_text(),
                                             re.MULTILINE)}
    linked = list(FIXED_RULES.values()) + list(rule_docs(load_policy_sets([]).policies).values())
    assert all(doc.help_uri for doc in linked)
    assert sorted(doc.id for doc in linked if doc.help_uri.rsplit("#", 1)[1] not in headings) == []


def test_validate_cli_sarif_carries_the_pack_descriptions(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    write_tree(tmp_path, {"web.yaml": DEPLOYMENT.replace("nginx:1.27", "nginx:latest")})
    assert main(["validate", "--config-repo", str(tmp_path), str(tmp_path), "--output", "sarif"]) == 1
    data = json.loads(capsys.readouterr().out)
    rules = {r["id"]: r for r in data["runs"][0]["tool"]["driver"]["rules"]}
    assert rules["disallow-latest-tag"]["shortDescription"]["text"].startswith("Container images name a version")
    assert all("partialFingerprints" in r for r in data["runs"][0]["results"])


def test_one_table_for_the_markdown_writer_and_the_job_summary() -> None:
    finding = Finding("schema/unknown-field", Severity.ERROR, "unknown field | x", "envs/dev/web.yaml", 6, 3,
                      object=WEB)
    report = ValidationReport(objects=(ObjectResult(WEB, "envs/dev/web.yaml", 1, "invalid"),), findings=(finding,))
    row = "| error | schema/unknown-field | envs/dev/web.yaml:6 | unknown field \\| x (Deployment/web) |"
    assert findings_table([finding]) == ["| severity | rule | where | message |", "|---|---|---|---|", row]
    assert row in WRITERS["markdown"](report, WriterOptions()).splitlines()
    assert row in ci_outputs.summary_markdown(None, report).splitlines()


def test_the_table_names_environments_when_there_are_several_and_bounds_rows() -> None:
    findings = [Finding("schema", Severity.WARNING if i % 2 else Severity.ERROR, f"m{i}", "a.yaml", i,
                        environment="dev" if i % 3 else "prod") for i in range(1, 8)]
    lines = findings_table(findings, max_rows=3)
    assert lines[0] == "| severity | environment | rule | where | message |"
    assert [line.split(" | ")[0] for line in lines[2:5]] == ["| error"] * 3  # the worst first
    assert lines[-1] == "… and 4 more finding(s) not shown (size limit)."
    assert all(len("\n".join(findings_table(findings, max_bytes=n)).encode()) <= n for n in (0, 50, 300, 500))


def test_annotations_and_text_say_which_environment(tmp_path: Path) -> None:
    report = two_environments(tmp_path)
    github = WRITERS["github"](report, WriterOptions())
    errors = [line for line in github.splitlines() if line.startswith("::error ")]
    assert [line.rsplit("(", 1)[1] for line in errors] == ["Deployment/web in dev)", "Deployment/web in prod)"]
    assert "(Deployment/web in prod)" in WRITERS["text"](report, WriterOptions())
    messages = [r["message"]["text"] for r in results(sarif(report))]  # type: ignore[index]
    assert [m.rsplit("(", 1)[1] for m in messages] == ["Deployment/web in dev)", "Deployment/web in prod)"]


def test_junit_verdicts_come_from_the_object_results_even_without_findings() -> None:
    report = ValidationReport(objects=(ObjectResult(WEB, "a.yaml", 1, "invalid", "no schema"),
                                       ObjectResult(replace(WEB, name="w"), "b.yaml", 1, "skipped", "no schema")))
    root = junit(report)
    failure, skipped = root.find(".//failure"), root.find(".//skipped")
    assert failure is not None and (failure.get("message"), failure.get("type")) == ("no schema", "invalid")
    assert skipped is not None and skipped.get("message") == "no schema"
    assert (root.get("tests"), root.get("failures")) == ("2", "1")
