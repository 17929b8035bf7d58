"""Waivers: per-object annotations and expiring ``waivers:`` entries in ``.handoff.yaml``.

Annotation syntax: ``handoff.dev/waive: "<policy-id>=<reason>"``. Several waivers go on separate
lines or after a comma, where a new entry starts only when the text after the comma looks like
``<policy-id>=``, so reasons may contain commas::

    handoff.dev/waive: |
      disallow-latest-tag=vendor chart, pinned upstream soon
      run-as-non-root=needs port 80
"""

from __future__ import annotations

import datetime
import fnmatch
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from handoff.config import Waiver
from handoff.policy.model import PolicyObject
from handoff.report.model import Finding, ObjectRef, Severity, ValidationReport, WaiverUse

ANNOTATION = "handoff.dev/waive"
EXPIRED_RULE = "waiver-expired"
_ENTRY_START = re.compile(r"[,\n]\s*(?=[a-z0-9][a-z0-9-]*\s*=)")


@dataclass(frozen=True)
class AnnotationWaiver:
    policy: str
    reason: str


def parse_annotation(value: str) -> tuple[AnnotationWaiver, ...]:
    waivers = []
    for entry in _ENTRY_START.split(value.strip()):
        policy, sep, reason = entry.partition("=")
        if sep and policy.strip():
            waivers.append(AnnotationWaiver(policy=policy.strip(), reason=reason.strip()))
    return tuple(waivers)


def _annotation_waivers(item: PolicyObject) -> tuple[AnnotationWaiver, ...]:
    meta = item.obj.get("metadata") or {}
    annotations = meta.get("annotations") if isinstance(meta, Mapping) else None
    value = annotations.get(ANNOTATION) if isinstance(annotations, Mapping) else None
    return parse_annotation(value) if isinstance(value, str) else ()


def waiver_matches(waiver: Waiver, rule: str, ref: ObjectRef | None) -> bool:
    if waiver.policy not in (rule, "*"):
        return False
    fields = {"kind": ref.kind if ref else "", "name": ref.name if ref else "",
              "namespace": ref.namespace if ref else ""}
    return all(fnmatch.fnmatchcase(fields.get(key, ""), pattern) for key, pattern in waiver.match.items())


def apply_waivers(
    report: ValidationReport,
    objects: Sequence[PolicyObject],
    waivers: Sequence[Waiver] = (),
    *,
    config_file: str = ".handoff.yaml",
    today: datetime.date | None = None,
) -> ValidationReport:
    """Drop waived findings, list every waiver used, and report expired config waivers as findings."""
    today = today or datetime.date.today()
    annotations = [_annotation_waivers(item) for item in objects]
    # without any annotation waiver, no finding needs its object looked up (10,000s of hashed refs)
    annotated = any(annotations)
    by_object: dict[tuple[str, ObjectRef | None], tuple[AnnotationWaiver, ...]] = {
        (item.file, item.ref): found for item, found in zip(objects, annotations, strict=True)
    } if annotated else {}
    # positions only for the objects whose annotation waiver is used: locate() may compose a file
    items: dict[tuple[str, ObjectRef | None], PolicyObject] = {(o.file, o.ref): o for o in objects} \
        if annotated else {}
    live = [w for w in waivers if w.expires is None or w.expires >= today]
    expired = [w for w in waivers if w.expires is not None and w.expires < today]

    kept: list[Finding] = []
    used: dict[tuple[str, ObjectRef | None, str, str], WaiverUse] = {}
    # a finding may name the Helm values file that set a value instead of the object's own file
    by_ref = {ref: (file, ref) for file, ref in items}
    for finding in report.findings:
        annotation = None
        if annotated:
            key = (finding.file, finding.object)
            if key not in items:
                key = by_ref.get(finding.object, key)
            annotation = next((a for a in by_object.get(key, ()) if a.policy == finding.rule), None)
        if annotation is not None:
            use = WaiverUse(rule=finding.rule, object=finding.object, reason=annotation.reason,
                            source=f"{key[0]}:{items[key].locate(f'metadata.annotations.{ANNOTATION}')[0]}")
            used.setdefault((finding.rule, finding.object, use.source, use.reason), use)
            continue
        waiver = next((w for w in live if waiver_matches(w, finding.rule, finding.object)), None)
        if waiver is not None:
            use = WaiverUse(rule=finding.rule, object=finding.object, reason=waiver.reason,
                            source=f"{config_file}:{waiver.line}",
                            expires=waiver.expires.isoformat() if waiver.expires else "")
            used.setdefault((finding.rule, finding.object, use.source, use.reason), use)
            continue
        kept.append(finding)

    for waiver in expired:
        assert waiver.expires is not None
        what = ", ".join(f"{k}={v}" for k, v in sorted(waiver.match.items())) or "every object"
        kept.append(Finding(
            rule=EXPIRED_RULE, severity=Severity.WARNING, file=config_file, line=waiver.line or 1,
            message=(f"waiver for {waiver.policy} ({what}) expired on {waiver.expires.isoformat()}; "
                     f"its findings are reported again (reason was: {waiver.reason})"),
            path="waivers", engine="waivers",
        ))
        used.setdefault((waiver.policy, None, f"{config_file}:{waiver.line}", waiver.reason), WaiverUse(
            rule=waiver.policy, object=None, reason=waiver.reason, source=f"{config_file}:{waiver.line}",
            expires=waiver.expires.isoformat(), expired=True,
        ))
    return ValidationReport(objects=report.objects, findings=tuple(kept),
                            waivers=report.waivers + tuple(used.values()))
