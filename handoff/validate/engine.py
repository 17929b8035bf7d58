"""The schema-engine interface and the options every engine takes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from handoff.manifests.model import RenderedObject
from handoff.manifests.sensitive import (
    BUILTIN_FIELDS,
    SensitiveField,
    excerpt,
    is_sensitive_path,
    mask,
    object_secret_strings,
    scrub,
)
from handoff.report.model import Finding, ObjectRef, ObjectResult, Severity, ValidationReport

_MAX_MESSAGE = 300


@dataclass(frozen=True)
class SchemaOptions:
    """``kubernetes_version`` None means the newest shipped; ``extra_crds`` are CRDs found in the repo
    but not in the render (CRDs in the render are always used)."""

    kubernetes_version: str | None = None
    strict: bool = True
    ignore_missing_schemas: bool = False
    crd_catalogs: tuple[Path, ...] = ()
    extra_crds: tuple[RenderedObject, ...] = ()
    sensitive: tuple[SensitiveField, ...] = BUILTIN_FIELDS  # values no finding may quote


class SchemaEngine(Protocol):
    name: str

    def validate(self, objects: Sequence[RenderedObject], options: SchemaOptions) -> ValidationReport:
        """One ObjectResult per object (same order) and every schema Finding."""
        ...


def dotted(parts: Sequence[str | int]) -> str:
    """``["spec", "containers", 0, "image"]`` → ``spec.containers[0].image``."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out = f"{out}.{part}" if out else str(part)
    return out


def shorten(message: str) -> str:
    one_line = " ".join(message.split())
    return one_line if len(one_line) <= _MAX_MESSAGE else one_line[: _MAX_MESSAGE - 1] + "…"


def quote(obj: RenderedObject, path: str, value: Any,
          sensitive: Sequence[SensitiveField] = BUILTIN_FIELDS) -> str:
    """How a finding may quote the value at ``path``: masked when sensitive (or holding a sensitive
    value), else a bounded excerpt."""
    if is_sensitive_path(obj.obj, path, sensitive):
        return mask(obj.obj, path, value) if not isinstance(value, (dict, list)) else "<secret>"
    return excerpt(value)


def finding_at(obj: RenderedObject, *, rule: str, message: str, path: str = "", engine: str,
               severity: Severity = Severity.ERROR, ref: ObjectRef | None = None,
               sensitive: Sequence[SensitiveField] = BUILTIN_FIELDS) -> Finding:
    """A finding on ``obj``; any sensitive value of ``obj`` the message still carries is masked."""
    file, line, column = obj.where(path) if path else (obj.file, obj.line, 1)
    message = scrub(message, object_secret_strings(obj, sensitive))
    return Finding(rule=rule, severity=severity, message=shorten(message), file=file, line=line,
                   column=column, path=path, object=ref or obj.ref, engine=engine)


def result_for(obj: RenderedObject, status: str, reason: str = "") -> ObjectResult:
    return ObjectResult(object=obj.ref, file=obj.file, line=obj.line, status=status, reason=reason)


def missing_kind(obj: RenderedObject, engine: str) -> Finding | None:
    """Objects without apiVersion/kind cannot be validated at all: an error, as in kubeconform."""
    data: Any = obj.obj
    for key in ("apiVersion", "kind"):
        if not data.get(key):
            return finding_at(obj, rule="schema/missing-kind", engine=engine,
                              message=f"missing {key!r}: not a Kubernetes object")
    return None
