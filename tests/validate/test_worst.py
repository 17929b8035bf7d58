"""Merging an extra check's findings into the schema step's verdicts: the report model places each
finding (``ValidationReport.cases``), and the objects listed then agree with the summary's counts."""

from __future__ import annotations

from handoff.report.model import Finding, ObjectRef, ObjectResult, Severity, ValidationReport
from handoff.validate import worst

WEB = ObjectRef("apps/v1", "Deployment", "web", "dev")
API = ObjectRef("apps/v1", "Deployment", "api", "dev")
WIDGET = ObjectRef("example.com/v1", "Widget", "w", "dev")


def _error(file: str, obj: ObjectRef, severity: Severity = Severity.ERROR) -> Finding:
    return Finding("no-latest", severity, "bad", file, 3, object=obj)


def test_statuses_follow_the_models_placement_and_agree_with_the_counts() -> None:
    base = ValidationReport(objects=(
        ObjectResult(WEB, "templates/web.yaml", 1, "valid"),
        ObjectResult(API, "templates/api.yaml", 1, "valid"),
        ObjectResult(WEB, "templates/web-copy.yaml", 1, "valid"),  # the same object rendered twice
        ObjectResult(WIDGET, "crs/widget.yaml", 1, "skipped"),  # no schema for the CRD
    ))
    extra = ValidationReport(findings=(
        _error("values.yaml", WEB),  # a Helm values file holds no object: it lands on WEB's first result
        _error("templates/api.yaml", API, Severity.WARNING),  # a warning judges nothing
        _error("crs/widget.yaml", WIDGET),
    ))
    objects = worst(base, extra)
    assert [o.status for o in objects] == ["invalid", "valid", "valid", "invalid"]
    merged = ValidationReport(objects=objects, findings=extra.findings)
    counts = merged.counts()
    assert (counts.valid, counts.invalid, counts.skipped) == (
        sum(o.status == "valid" for o in objects), sum(o.status == "invalid" for o in objects),
        sum(o.status == "skipped" for o in objects))


def test_a_finding_on_another_environments_object_is_not_this_ones() -> None:
    base = ValidationReport(objects=(ObjectResult(WEB, "web.yaml", 1, "valid", environment="dev"),))
    extra = ValidationReport(findings=(Finding("r", Severity.ERROR, "m", "web.yaml", 1, object=WEB,
                                               environment="prod"),))
    assert [o.status for o in worst(base, extra)] == ["valid"]
