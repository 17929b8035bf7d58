"""Validation: schema engines, then any extra checks (policies), merged into one ValidationReport.

``validate_objects`` is the library entry point CI and the reconciler share; the policy step plugs
in through ``extra_checks`` (each takes the objects and returns a ValidationReport of findings).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from handoff.errors import ToolMissingError, UsageError
from handoff.manifests.model import RenderedObject, RenderResult
from handoff.manifests.plain import gc_paused
from handoff.manifests.sensitive import KnownValues, held_secret_strings
from handoff.report.model import Finding, ObjectRef, ObjectResult, ValidationReport, WaiverUse
from handoff.validate import kubeconform
from handoff.validate.builtin import BuiltinEngine, schemas_available
from handoff.validate.engine import SchemaEngine, SchemaOptions
from handoff.validate.kubeconform import KubeconformEngine

ExtraCheck = Callable[[Sequence[RenderedObject]], ValidationReport]

ENGINES: dict[str, SchemaEngine] = {
    "builtin": BuiltinEngine(),
    "kubeconform": KubeconformEngine(),
}


def select_engine(name: str) -> SchemaEngine:
    """``builtin``, ``kubeconform``, or ``auto`` (built-in when its schemas are installed)."""
    if name == "auto":
        if schemas_available():
            return ENGINES["builtin"]
        if kubeconform.available():
            return ENGINES["kubeconform"]
        raise ToolMissingError("no schema engine: pip install kubernetes-validate or put kubeconform on PATH")
    engine = ENGINES.get(name)
    if engine is None:
        raise UsageError(f"unknown engine {name!r} (choose one of auto, {', '.join(ENGINES)})")
    return engine


def validate_objects(objects: Sequence[RenderedObject], *, schema_options: SchemaOptions | None = None,
                     engine: str = "auto", extra_checks: Sequence[ExtraCheck] = ()) -> ValidationReport:
    """Schema-check ``objects``, then run each extra check; one merged report. No message in it
    carries a sensitive value of ``objects`` (a policy's message may quote one)."""
    options = schema_options or SchemaOptions()
    report = select_engine(engine).validate(objects, options)
    for check in extra_checks:
        with gc_paused():  # findings and positions are acyclic: spare the collector re-walking them
            extra = check(objects)
        report = ValidationReport(objects=worst(report, extra), findings=report.findings + extra.findings,
                                  waivers=report.waivers + extra.waivers)
    return masked(report, held_secret_strings(objects, options.sensitive))


def validate(rendered: RenderResult, *, schema_options: SchemaOptions | None = None, engine: str = "auto",
             extra_checks: Sequence[ExtraCheck] = ()) -> ValidationReport:
    """Validate a render: its parse findings come first, then schema and extra-check findings."""
    report = validate_objects(rendered.objects, schema_options=schema_options, engine=engine,
                              extra_checks=extra_checks)
    options = schema_options or SchemaOptions()
    parse = masked(ValidationReport(findings=rendered.findings),
                   held_secret_strings(rendered.objects, options.sensitive))
    return ValidationReport(objects=report.objects, findings=parse.findings + report.findings,
                            waivers=report.waivers)


def masked(report: ValidationReport, secrets: Mapping[str, str]) -> ValidationReport:
    """``report`` with every value of ``secrets`` masked wherever a writer prints it: messages, reasons,
    paths, and the identity (kind, name, namespace) of every object, finding and waiver (a chart may stamp a
    Secret's value into another object's name). Equal identities stay equal, so findings still find their
    objects."""
    if not secrets:
        return report
    known = KnownValues(secrets)
    return replace(report, findings=tuple(_masked_finding(f, known) for f in report.findings),
                   objects=tuple(_masked_result(o, known) for o in report.objects),
                   waivers=tuple(_masked_waiver(w, known) for w in report.waivers))


# copied only when masking changes something: most findings and results hold no secret
def _masked_finding(finding: Finding, known: KnownValues) -> Finding:
    message, path = known.mask(finding.message), known.mask(finding.path)
    ref = _masked_ref(finding.object, known)
    if message == finding.message and path == finding.path and ref is finding.object:
        return finding
    return replace(finding, message=message, path=path, object=ref)


def _masked_result(result: ObjectResult, known: KnownValues) -> ObjectResult:
    reason, ref = known.mask(result.reason), _masked_ref(result.object, known)
    if reason == result.reason and ref is result.object:
        return result
    return replace(result, reason=reason, object=ref)


def _masked_waiver(waiver: WaiverUse, known: KnownValues) -> WaiverUse:
    ref = _masked_ref(waiver.object, known)
    return waiver if ref is waiver.object else replace(waiver, object=ref)


def _masked_ref(ref: ObjectRef | None, known: KnownValues) -> ObjectRef | None:
    return None if ref is None else known.mask_ref(ref)


def worst(base: ValidationReport, extra: ValidationReport) -> tuple[ObjectResult, ...]:
    """``base``'s objects, each with the status the report model gives it once ``extra``'s findings are
    placed on it (``ValidationReport.cases`` owns that matching: a Helm values file's finding lands on
    the object it set), so the objects listed agree with the summary's counts."""
    if not extra.findings:
        return base.objects
    placed = ValidationReport(objects=base.objects, findings=extra.findings)
    return tuple(result if result.status == case.status else replace(result, status=case.status)
                 for case in placed.cases() if (result := case.result) is not None)


__all__ = [
    "ENGINES",
    "ExtraCheck",
    "SchemaEngine",
    "SchemaOptions",
    "masked",
    "select_engine",
    "validate",
    "validate_objects",
    "worst",
]
