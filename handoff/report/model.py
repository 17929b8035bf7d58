"""Results are data: a ValidationReport holds one ObjectResult per object and every Finding.

Writers (``handoff.report.writers``) turn a report into a format; nothing else prints. A report that
covers several environments tags each object, finding and waiver with its ``environment`` (see
``ValidationReport.for_environment``), so two environments' verdicts on one object stay apart.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple, TypeVar

from handoff.errors import UsageError

_T = TypeVar("_T")
STATUSES = ("valid", "invalid", "skipped")


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
    environment: str = ""


@dataclass(frozen=True)
class WaiverUse:
    """A waiver that matched a finding (listed in every report), or that expired."""

    rule: str
    object: ObjectRef | None
    reason: str
    source: str
    expires: str = ""
    expired: bool = False
    environment: str = ""


@dataclass(frozen=True)
class ObjectResult:
    """The verdict for one rendered object."""

    object: ObjectRef | None
    file: str
    line: int
    status: str  # "valid" | "invalid" | "skipped"
    reason: str = ""
    environment: str = ""


@dataclass(frozen=True)
class EnvironmentRun:
    """An environment the report covers and the policy params it was checked with (dotted keys)."""

    name: str
    params: Mapping[str, Any] = field(default_factory=dict)


_Where = tuple[str, str, ObjectRef | None]  # environment, file, object


class Case(NamedTuple):
    """One verdict as CI shows it: an object with the findings on it, or (``result`` None) one file's
    findings on no known object, such as a parse error."""

    environment: str
    file: str
    object: ObjectRef | None
    status: str  # "valid" | "invalid" | "skipped": an error on the object makes it invalid
    findings: tuple[Finding, ...]
    result: ObjectResult | None = None


@dataclass(frozen=True)
class Counts:
    """What ``summary()`` states; JUnit's ``tests``/``failures``/``skipped`` are ``cases``/``failing``/
    ``skipped``."""

    objects: int
    files: int
    valid: int
    invalid: int
    skipped: int
    unattached: int  # cases of findings that match no object result (a file that does not parse)
    unattached_failing: int

    @property
    def cases(self) -> int:
        return self.objects + self.unattached

    @property
    def failing(self) -> int:
        return self.invalid + self.unattached_failing

    def text(self) -> str:
        """``12 objects in 5 files: 11 valid, 1 invalid, 0 skipped``, plus, when findings point at no
        checked object (a file that does not parse),
        ``; 1 file with findings on no checked object (1 failing)``."""
        noun = "object" if self.objects == 1 else "objects"
        fnoun = "file" if self.files == 1 else "files"
        text = (f"{self.objects} {noun} in {self.files} {fnoun}: "
                f"{self.valid} valid, {self.invalid} invalid, {self.skipped} skipped")
        if self.unattached:
            lnoun = "file" if self.unattached == 1 else "files"
            text += (f"; {self.unattached} {lnoun} with findings on no checked object "
                     f"({self.unattached_failing} failing)")
        return text


@dataclass(frozen=True)
class ValidationReport:
    objects: tuple[ObjectResult, ...] = ()
    findings: tuple[Finding, ...] = ()
    waivers: tuple[WaiverUse, ...] = field(default=())
    environments: tuple[EnvironmentRun, ...] = ()

    def failed(self, fail_on: Severity = Severity.ERROR) -> bool:
        return any(f.severity >= fail_on for f in self.findings)

    def merge(self, other: ValidationReport) -> ValidationReport:
        return ValidationReport(
            objects=self.objects + other.objects,
            findings=self.findings + other.findings,
            waivers=self.waivers + other.waivers,
            environments=self.environments + other.environments,
        )

    def sorted_findings(self) -> list[Finding]:
        """Reading order: file, line, column, the worst first, rule. The JSON form keeps this order."""
        return sorted(self.findings, key=lambda f: (f.file, f.line, f.column, -f.severity, f.rule))

    def to_data(self) -> dict[str, Any]:
        """The JSON form (``handoff validate --output json``); ``from_data`` reads it back."""
        counts = self.counts()
        return {
            "summary": {"text": counts.text(), "objects": counts.objects, "files": counts.files,
                        "valid": counts.valid, "invalid": counts.invalid, "skipped": counts.skipped,
                        "unattached": counts.unattached, "unattached_failing": counts.unattached_failing,
                        "findings": len(self.findings)},
            "objects": [{"object": _ref_data(o.object), "file": o.file, "line": o.line, "status": o.status,
                         "reason": o.reason, "environment": o.environment} for o in self.objects],
            "findings": [{"rule": f.rule, "severity": str(f.severity), "message": f.message, "file": f.file,
                          "line": f.line, "column": f.column, "path": f.path,
                          "object": _ref_data(f.object), "engine": f.engine, "environment": f.environment}
                         for f in self.sorted_findings()],
            "waivers": [{"rule": w.rule, "object": _ref_data(w.object), "reason": w.reason,
                         "source": w.source, "expires": w.expires, "expired": w.expired,
                         "environment": w.environment}
                        for w in self.waivers],
            "environments": [{"name": e.name, "params": dict(e.params)} for e in self.environments],
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any], source: str, at: str = "") -> ValidationReport:
        """The inverse of ``to_data`` (``summary`` is derived, so it is not read). A missing key takes the
        model's default; a value of the wrong type is a ``UsageError`` naming ``source`` and the key
        (below ``at`` when the report is nested in a larger document)."""
        read = _Reader(source, at)
        return cls(
            objects=tuple(read.each(data, "objects", read.object_result)),
            findings=tuple(read.each(data, "findings", read.finding)),
            waivers=tuple(read.each(data, "waivers", read.waiver)),
            environments=tuple(read.each(data, "environments", read.environment)),
        )

    @classmethod
    def from_json(cls, text: str, source: str) -> ValidationReport:
        return cls.from_data(load_json_object(text, source), source)

    def for_environment(self, name: str, params: Mapping[str, Any] | None = None) -> ValidationReport:
        """This report as environment ``name``'s: every object, finding and waiver tagged with it."""
        return ValidationReport(
            objects=tuple(replace(o, environment=name) for o in self.objects),
            findings=tuple(replace(f, environment=name) for f in self.findings),
            waivers=tuple(replace(w, environment=name) for w in self.waivers),
            environments=(EnvironmentRun(name, dict(params or {})),),
        )

    def cases(self) -> tuple[Case, ...]:
        """One case per object result, in order, each with its findings; then one per (environment,
        file, object) of findings that match no object result.

        A finding belongs to the first result with its environment, file and object, or, when it points
        at a file holding no object of its environment (a Helm values file that set the value), to the
        first result with its environment and object.
        """
        attached, unattached = self._place_findings()
        cases = []
        for position, o in enumerate(self.objects):
            found = attached.get(position, ())
            cases.append(Case(o.environment, o.file, o.object, _status(o.status, found), tuple(found), o))
        cases += [Case(env, file, obj, _status("valid", found), tuple(found))
                  for (env, file, obj), found in unattached.items()]
        return tuple(cases)

    def counts(self) -> Counts:
        attached, unattached = self._place_findings()
        statuses = {"valid": 0, "invalid": 0, "skipped": 0}
        for position, o in enumerate(self.objects):
            status = _status(o.status, attached[position]) if position in attached else o.status
            statuses[status] = statuses.get(status, 0) + 1
        return Counts(
            objects=len(self.objects),
            files=len({o.file for o in self.objects}),
            valid=statuses["valid"],
            invalid=statuses["invalid"],
            skipped=statuses["skipped"],
            unattached=len(unattached),
            unattached_failing=sum(1 for found in unattached.values() if _has_error(found)),
        )

    def _place_findings(self) -> tuple[dict[int, list[Finding]], dict[_Where, list[Finding]]]:
        """Findings by the position of the object result they belong to, and those that belong to none.
        Only the keys some finding asks for are indexed, so a clean report of many objects costs little."""
        attached: dict[int, list[Finding]] = {}
        unattached: dict[_Where, list[Finding]] = {}
        if not self.findings:
            return attached, unattached
        wanted = {(f.environment, f.file, f.object) for f in self.findings}
        wanted_objects = {(f.environment, f.object) for f in self.findings if f.object is not None}
        exact: dict[_Where, int] = {}
        by_object: dict[tuple[str, ObjectRef], int] = {}
        object_files: set[tuple[str, str]] = set()
        for index, o in enumerate(self.objects):
            where = (o.environment, o.file, o.object)
            if where in wanted:
                exact.setdefault(where, index)
            if o.object is not None and (o.environment, o.object) in wanted_objects:
                by_object.setdefault((o.environment, o.object), index)
            object_files.add((o.environment, o.file))
        for f in self.findings:
            position = exact.get((f.environment, f.file, f.object))
            if position is None and f.object is not None and (f.environment, f.file) not in object_files:
                position = by_object.get((f.environment, f.object))
            if position is None:
                unattached.setdefault((f.environment, f.file, f.object), []).append(f)
            else:
                attached.setdefault(position, []).append(f)
        return attached, unattached

    def summary(self) -> str:
        """``12 objects in 5 files: 11 valid, 1 invalid, 0 skipped`` (see ``Counts.text``)."""
        return self.counts().text()


def _has_error(findings: Sequence[Finding]) -> bool:
    return any(f.severity >= Severity.ERROR for f in findings)


def _status(status: str, findings: Sequence[Finding]) -> str:
    return "invalid" if _has_error(findings) else status


def load_json_object(text: str, source: str) -> Mapping[str, Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise UsageError(f"not JSON: {e.msg}", file=source, line=e.lineno) from e
    if not isinstance(data, Mapping):
        raise UsageError("expected a JSON object", file=source)
    return data


def _ref_data(ref: ObjectRef | None) -> dict[str, str] | None:
    if ref is None:
        return None
    return {"apiVersion": ref.api_version, "kind": ref.kind, "namespace": ref.namespace, "name": ref.name}


class _Reader:
    """Typed reads from the JSON form; every error names the file and the key path."""

    def __init__(self, source: str, at: str) -> None:
        self.source = source
        self.at = f"{at}." if at else ""

    def fail(self, message: str, key: str) -> UsageError:
        return UsageError(message, file=self.source, key=self.at + key)

    def each(self, data: Mapping[str, Any], name: str,
             read: Callable[[Mapping[str, Any], str], _T]) -> list[_T]:
        items = data.get(name)
        if items is None:
            return []
        if not isinstance(items, list):
            raise self.fail("must be a list", name)
        out: list[_T] = []
        for index, item in enumerate(items):
            key = f"{name}[{index}]"
            out.append(read(self.mapping(item, key), key))
        return out

    def mapping(self, value: Any, key: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail("must be an object", key)
        return value

    def text(self, item: Mapping[str, Any], name: str, key: str, default: str = "") -> str:
        value = item.get(name, default)
        if not isinstance(value, str):
            raise self.fail("must be a string", f"{key}.{name}")
        return value

    def number(self, item: Mapping[str, Any], name: str, key: str, default: int = 1) -> int:
        value = item.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail("must be an integer", f"{key}.{name}")
        return value

    def ref(self, item: Mapping[str, Any], key: str) -> ObjectRef | None:
        value = item.get("object")
        if value is None:
            return None
        ref = self.mapping(value, f"{key}.object")
        at = f"{key}.object"
        return ObjectRef(api_version=self.text(ref, "apiVersion", at), kind=self.text(ref, "kind", at),
                         name=self.text(ref, "name", at), namespace=self.text(ref, "namespace", at))

    def finding(self, item: Mapping[str, Any], key: str) -> Finding:
        try:
            severity = Severity.parse(self.text(item, "severity", key, "error"))
        except UsageError as e:
            raise self.fail(e.message, f"{key}.severity") from None
        return Finding(rule=self.text(item, "rule", key), severity=severity,
                       message=self.text(item, "message", key), file=self.text(item, "file", key),
                       line=self.number(item, "line", key), column=self.number(item, "column", key),
                       path=self.text(item, "path", key), object=self.ref(item, key),
                       engine=self.text(item, "engine", key), environment=self.text(item, "environment", key))

    def object_result(self, item: Mapping[str, Any], key: str) -> ObjectResult:
        status = self.text(item, "status", key, "valid")
        if status not in STATUSES:
            choices = ", ".join(STATUSES)
            raise self.fail(f"unknown status {status!r} (choose one of {choices})", f"{key}.status")
        return ObjectResult(object=self.ref(item, key), file=self.text(item, "file", key),
                            line=self.number(item, "line", key), status=status,
                            reason=self.text(item, "reason", key),
                            environment=self.text(item, "environment", key))

    def waiver(self, item: Mapping[str, Any], key: str) -> WaiverUse:
        expired = item.get("expired", False)
        if not isinstance(expired, bool):
            raise self.fail("must be true or false", f"{key}.expired")
        return WaiverUse(rule=self.text(item, "rule", key), object=self.ref(item, key),
                         reason=self.text(item, "reason", key), source=self.text(item, "source", key),
                         expires=self.text(item, "expires", key), expired=expired,
                         environment=self.text(item, "environment", key))

    def environment(self, item: Mapping[str, Any], key: str) -> EnvironmentRun:
        params = self.mapping(item.get("params", {}), f"{key}.params")
        return EnvironmentRun(name=self.text(item, "name", key), params=dict(params))
