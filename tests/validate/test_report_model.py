"""One report model end to end: the JSON writer and ``ValidationReport.from_json`` are inverses, waivers,
environments, params and positions included; CI outputs read the JSON through the same model."""

from __future__ import annotations

import datetime
import json
import os
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handoff.errors import UsageError
from handoff.report import ci_outputs
from handoff.report.model import (
    EnvironmentRun,
    Finding,
    ObjectRef,
    ObjectResult,
    Severity,
    ValidationReport,
    WaiverUse,
)
from handoff.report.writers import WRITERS, WriterOptions

EXAMPLES = int(os.environ.get("HANDOFF_FUZZ_EXAMPLES", "200"))
WEB = ObjectRef("apps/v1", "Deployment", "web", "prod")


def write_json(report: ValidationReport) -> str:
    return WRITERS["json"](report, WriterOptions())


def canonical(report: ValidationReport) -> ValidationReport:
    """The JSON form lists findings in reading order; everything else keeps its order."""
    return replace(report, findings=tuple(report.sorted_findings()))


TEXT = st.one_of(st.text(max_size=12), st.sampled_from(["", "web", "a|b", "line\nbreak", "ü", "\x00"]))
ENV = st.sampled_from(["", "dev", "prod"])
REF = st.one_of(st.none(), st.builds(ObjectRef, TEXT, TEXT, TEXT, TEXT))
JSON_VALUE = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.text(max_size=8)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)),
    max_leaves=6,
)
FINDING = st.builds(Finding, rule=TEXT, severity=st.sampled_from(list(Severity)), message=TEXT, file=TEXT,
                    line=st.integers(0, 10**6), column=st.integers(0, 500), path=TEXT, object=REF,
                    engine=TEXT, environment=ENV)
OBJECT = st.builds(ObjectResult, object=REF, file=TEXT, line=st.integers(1, 10**6),
                   status=st.sampled_from(["valid", "invalid", "skipped"]), reason=TEXT, environment=ENV)
WAIVER = st.builds(WaiverUse, rule=TEXT, object=REF, reason=TEXT, source=TEXT, expires=TEXT,
                   expired=st.booleans(), environment=ENV)
RUN = st.builds(EnvironmentRun, name=ENV, params=st.dictionaries(st.text(max_size=20), JSON_VALUE, max_size=3))
REPORT = st.builds(ValidationReport, objects=st.lists(OBJECT, max_size=5).map(tuple),
                   findings=st.lists(FINDING, max_size=8).map(tuple), waivers=st.lists(WAIVER, max_size=3).map(tuple),
                   environments=st.lists(RUN, max_size=2).map(tuple))


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(REPORT)
def test_json_round_trip_is_exact(report: ValidationReport) -> None:
    text = write_json(report)
    back = ValidationReport.from_json(text, "report.json")
    assert back == canonical(report)
    assert write_json(back) == text  # JSON -> report -> JSON gives the same bytes


def test_round_trip_keeps_waivers_environments_params_and_positions() -> None:
    report = ValidationReport(
        objects=(ObjectResult(WEB, "charts/web/templates/deploy.yaml", 3, "invalid", environment="prod"),),
        findings=(Finding("require-image-digest", Severity.ERROR, "image not pinned by digest",
                          "charts/web/values.yaml", 12, 7, "spec.template.spec.containers[0].image", WEB, "cel",
                          environment="prod"),),
        waivers=(WaiverUse("disallow-latest-tag", WEB, "vendor chart", ".handoff.yaml:40", "2027-01-01",
                           environment="prod"),),
        environments=(EnvironmentRun("prod", {"require-image-digest.enabled": True,
                                              "allowed-registries.registries": ["ghcr.io/acme"]}),),
    )
    back = ValidationReport.from_json(write_json(report), "r.json")
    assert back == report
    assert back.waivers[0].object == WEB and back.waivers[0].expires == "2027-01-01"
    assert (back.findings[0].line, back.findings[0].column) == (12, 7)
    assert back.environments[0].params["allowed-registries.registries"] == ["ghcr.io/acme"]


def test_for_environment_tags_everything_and_records_params() -> None:
    report = ValidationReport(objects=(ObjectResult(WEB, "a.yaml", 1, "valid"),),
                              findings=(Finding("x", Severity.INFO, "m", "a.yaml", 1, object=WEB),),
                              waivers=(WaiverUse("x", WEB, "r", "s"),))
    tagged = report.for_environment("dev", {"require-image-digest.enabled": False})
    assert {o.environment for o in tagged.objects} == {f.environment for f in tagged.findings} \
        == {w.environment for w in tagged.waivers} == {"dev"}
    assert tagged.environments == (EnvironmentRun("dev", {"require-image-digest.enabled": False}),)
    both = tagged.merge(report.for_environment("prod"))
    assert [e.name for e in both.environments] == ["dev", "prod"]


@pytest.mark.parametrize(("data", "key"), [
    ({"findings": {}}, "findings"),
    ({"findings": [3]}, "findings[0]"),
    ({"findings": [{"line": "7"}]}, "findings[0].line"),
    ({"findings": [{"line": True}]}, "findings[0].line"),
    ({"findings": [{"severity": "fatal"}]}, "findings[0].severity"),
    ({"findings": [{"object": {"kind": 1}}]}, "findings[0].object.kind"),
    ({"objects": [{"status": "great"}]}, "objects[0].status"),
    ({"waivers": [{"expired": "no"}]}, "waivers[0].expired"),
    ({"environments": [{"name": "dev", "params": []}]}, "environments[0].params"),
])
def test_a_bad_report_names_file_and_key(data: dict[str, object], key: str) -> None:
    with pytest.raises(UsageError) as caught:
        ValidationReport.from_json(json.dumps(data), "validate.json")
    assert str(caught.value).startswith(f"validate.json: at {key}: ")


def test_a_report_inside_a_propose_result_names_its_key() -> None:
    text = json.dumps({"operation": "created", "report": {"findings": [{"column": "x"}]}})
    with pytest.raises(UsageError, match=r"^result.json: at report.findings\[0\].column: must be an integer"):
        ci_outputs.parse_propose_result(text, "result.json")


def test_ci_outputs_keep_the_waivers_of_the_report() -> None:
    waiver = WaiverUse("disallow-latest-tag", WEB, "vendor chart, pinned upstream soon", "a.yaml:3")
    report = ValidationReport(objects=(ObjectResult(WEB, "a.yaml", 1, "valid"),), waivers=(waiver,))
    result = json.dumps({"operation": "updated", "validation": "passed", "report": json.loads(write_json(report))})
    parsed = ci_outputs.parse_propose_result(result, "result.json")
    assert parsed.report == report
    summary = ci_outputs.summary_markdown(parsed, parsed.report)
    assert "1 waiver(s) applied:" in summary and "vendor chart, pinned upstream soon" in summary
    assert "**1 object in 1 file: 1 valid, 0 invalid, 0 skipped**" in summary


def test_a_yaml_date_in_params_is_written_as_its_text() -> None:
    report = ValidationReport(environments=(EnvironmentRun("prod", {"x.until": datetime.date(2027, 1, 2)}),))
    back = ValidationReport.from_json(write_json(report), "r.json")
    assert back.environments[0].params == {"x.until": "2027-01-02"}
