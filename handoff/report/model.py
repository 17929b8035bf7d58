"""Results are data: a ValidationReport holds one ObjectResult per object and every Finding.

Writers (``handoff.report.writers``) turn a report into a format; nothing else prints.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from handoff.errors import UsageError


class Severity(enum.IntEnum):
    """Ordered so that ``finding.severity >= fail_on`` decides the exit code."""

    INFO = 10
    WARNING = 20
    ERROR = 30

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            choices = ", ".join(s.name.lower() for s in cls)
            raise UsageError(f"unknown severity {text!r} (choose one of {choices})") from None

    def __str__(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, order=True)
class ObjectRef:
    """Identifies a Kubernetes object: apiVersion, kind, namespace (may be empty) and name."""

    api_version: str
    kind: str
    name: str
    namespace: str = ""

    def __str__(self) -> str:
        ns = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind}/{ns}{self.name}"


@dataclass(frozen=True)
class Finding:
    """One problem at one place.

    ``rule`` is ``schema`` (or a schema sub-rule such as ``schema/unknown-field``), ``yaml`` for parse
    errors, or a policy id such as ``disallow-latest-tag``. ``path`` is a JSON path into the object in
    dotted form with list indices (``spec.template.spec.containers[0].image``); empty for the whole
    object or file. ``line`` and ``column`` are 1-based and point at the value in ``file`` when it can
    be known, else at the object's first line.
    """

    rule: str
    severity: Severity
    message: str
    file: str
    line: int
    column: int = 1
    path: str = ""
    object: ObjectRef | None = None
    engine: str = ""


@dataclass(frozen=True)
class WaiverUse:
    """A waiver that matched a finding (listed in every report), or that expired."""

    rule: str
    object: ObjectRef | None
    reason: str
    source: str
    expires: str = ""
    expired: bool = False


@dataclass(frozen=True)
class ObjectResult:
    """The verdict for one rendered object."""

    object: ObjectRef | None
    file: str
    line: int
    status: str  # "valid" | "invalid" | "skipped"
    reason: str = ""


@dataclass(frozen=True)
class ValidationReport:
    objects: tuple[ObjectResult, ...] = ()
    findings: tuple[Finding, ...] = ()
    waivers: tuple[WaiverUse, ...] = field(default=())

    def failed(self, fail_on: Severity = Severity.ERROR) -> bool:
        return any(f.severity >= fail_on for f in self.findings)

    def merge(self, other: ValidationReport) -> ValidationReport:
        return ValidationReport(
            objects=self.objects + other.objects,
            findings=self.findings + other.findings,
            waivers=self.waivers + other.waivers,
        )

    def summary(self) -> str:
        """``12 objects in 5 files: 11 valid, 1 invalid, 0 skipped``."""
        files = {o.file for o in self.objects}
        counts = {s: sum(1 for o in self.objects if o.status == s) for s in ("valid", "invalid", "skipped")}
        noun = "object" if len(self.objects) == 1 else "objects"
        fnoun = "file" if len(files) == 1 else "files"
        return (
            f"{len(self.objects)} {noun} in {len(files)} {fnoun}: "
            f"{counts['valid']} valid, {counts['invalid']} invalid, {counts['skipped']} skipped"
        )
