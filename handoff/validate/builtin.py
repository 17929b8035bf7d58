"""The built-in engine: offline Kubernetes and CRD schemas validated with jsonschema_rs.

Each (apiVersion, kind) schema is compiled once per process; a clean object costs one ``is_valid``
call and only invalid objects pay for ``iter_errors`` and source positions.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any

import jsonschema_rs

from handoff.manifests.model import RenderedObject
from handoff.manifests.plain import gc_paused
from handoff.manifests.sensitive import BUILTIN_FIELDS, SensitiveField, excerpt, is_sensitive_path
from handoff.report.model import Finding, ObjectResult, ValidationReport
from handoff.validate.crds import CrdIndex, load_catalog_schema
from handoff.validate.engine import SchemaOptions, dotted, finding_at, missing_kind, quote, result_for
from handoff.validate.removed import removed_message
from handoff.validate.schemas import KubernetesSchemas, kubernetes_schemas

ENGINE = "builtin"
Validator = Any  # jsonschema_rs validators have no stubs

_compiled: dict[tuple[str, bool, str, str], Validator | None] = {}
_compiled_lock = threading.Lock()


@dataclass(frozen=True)
class UnusableSchema:
    """A schema from repository content (a CRD's, a catalog's) that does not compile: it refers outside
    itself (every retrieval is refused: no file read, no URL fetched) or is not a valid schema."""

    why: str


def _refuse_retrieval(uri: str) -> Any:
    raise ValueError(f"refers to {excerpt(uri)} outside itself, which is never retrieved")


def compile_schema(schema: Mapping[str, Any]) -> Validator:
    """A validator of ``schema``; a ``$ref`` (``$schema``, an ``$id`` base) to anything but itself and the
    JSON Schema meta-schemas raises, never reads a file or fetches a URL."""
    return jsonschema_rs.validator_for(dict(schema), validate_formats=False, retriever=_refuse_retrieval)


def _compiled_or_unusable(schema: Mapping[str, Any]) -> Validator | UnusableSchema:
    try:
        return compile_schema(schema)
    except (jsonschema_rs.ValidationError, ValueError):
        # the engine's message quotes the schema, which a chart may have stamped a Secret value into
        return UnusableSchema("it refers to a file or URL outside itself (never retrieved) or is not a valid "
                              "JSON schema")


def kubernetes_validator(schemas: KubernetesSchemas, api_version: str, kind: str) -> Validator | None:
    key = (schemas.version, schemas.strict, api_version, kind)
    if key not in _compiled:
        schema = schemas.schema_for(api_version, kind)
        validator = compile_schema(schema) if schema is not None else None
        with _compiled_lock:
            _compiled[key] = validator
    return _compiled[key]


class _Resolver:
    """Kubernetes schemas first, then CRDs from the render/repo, then the catalog directories."""

    def __init__(self, options: SchemaOptions, objects: Iterable[RenderedObject]) -> None:
        self.kubernetes = kubernetes_schemas(options.kubernetes_version, options.strict)
        self.crds = CrdIndex(chain(options.extra_crds, objects), strict=options.strict)
        self.catalogs = options.crd_catalogs
        self._known: dict[tuple[str, str], Validator | None] = {}

    def validator(self, api_version: str, kind: str) -> Validator | None:
        key = (api_version, kind)
        try:
            return self._known[key]  # one lookup per object: a stream repeats a few kinds many times
        except KeyError:
            pass
        found = kubernetes_validator(self.kubernetes, api_version, kind)
        if found is None:
            schema = self.crds.get(key) or load_catalog_schema(self.catalogs, api_version, kind)
            found = _compiled_or_unusable(schema) if schema is not None else None
        self._known[key] = found
        return found


# what a kind's facts may say of the schema (never of the value): ``as_dict()`` keys shown in a finding
_SCHEMA_FACTS = ("limit", "pattern", "format", "multiple_of")


def _without_instance(obj: RenderedObject, path: str, error: Any, sensitive: Sequence[SensitiveField]) -> str:
    """jsonschema_rs's message with the offending value it embeds (``"hunter2" is not of type
    "integer"``) replaced by a bounded quote. When the value is, or holds, a sensitive value the
    message is rebuilt from what the schema asked alone: jsonschema_rs renders values its own way (a
    20-digit integer as ``90071992547409936384.0``), so no form of the value can be searched for."""
    message = str(error.message)
    if error.kind.name != "required" and is_sensitive_path(obj.obj, path, sensitive):
        return f"{quote(obj, path, error.instance, sensitive)} {_schema_clause(error.kind)}"
    instance = json.dumps(error.instance, separators=(",", ":"), ensure_ascii=False)
    if instance in message:
        return message.replace(instance, quote(obj, path, error.instance, sensitive), 1)
    return message


def _schema_clause(kind: Any) -> str:
    """``is not of type "string"`` or ``fails the schema's maxLength check (limit 2)``: a kind's facts
    about the schema, none about the value."""
    facts = kind.as_dict()
    types = facts.get("types")
    if isinstance(types, list):
        plural = "s" if len(types) > 1 else ""
        return f"is not of type{plural} " + ", ".join(json.dumps(str(t)) for t in types)
    shown = ", ".join(f"{name} {excerpt(facts[name])}" for name in _SCHEMA_FACTS if name in facts)
    return f"fails the schema's {kind.name} check" + (f" ({shown})" if shown else "")


def error_findings(obj: RenderedObject, errors: Iterable[Any], engine: str = ENGINE,
                   sensitive: Sequence[SensitiveField] = BUILTIN_FIELDS) -> list[Finding]:
    """Turn jsonschema_rs errors into Findings; unknown fields point at the unknown key itself."""
    findings: list[Finding] = []
    for error in errors:
        base = dotted(error.instance_path)
        unexpected = getattr(error.kind, "unexpected", None)
        if unexpected and type(error.kind).__name__ == "AdditionalProperties":
            for name in unexpected:
                path = f"{base}.{name}" if base else str(name)
                findings.append(finding_at(obj, rule="schema/unknown-field", path=path, engine=engine,
                                           message=f"unknown field {name!r} (strict mode)",
                                           sensitive=sensitive))
            continue
        rule = "schema/required" if type(error.kind).__name__ == "Required" else "schema"
        where = f"{base}: " if base else ""
        findings.append(finding_at(obj, rule=rule, path=base, engine=engine, sensitive=sensitive,
                                   message=f"{where}{_without_instance(obj, base, error, sensitive)}"))
    return findings


def check_object(obj: RenderedObject, validator_for: Callable[[str, str], Validator | None],
                 options: SchemaOptions, engine: str = ENGINE) -> tuple[ObjectResult, list[Finding]]:
    problem = missing_kind(obj, engine)
    if problem is not None:
        return result_for(obj, "invalid", problem.message), [problem]
    api_version, kind = str(obj.obj["apiVersion"]), str(obj.obj["kind"])
    validator = validator_for(api_version, kind)
    if validator is None:
        removed = removed_message(api_version, kind)
        if removed is not None:
            return result_for(obj, "invalid", "removed API"), [
                finding_at(obj, rule="schema/removed-api", path="apiVersion", engine=engine, message=removed)]
        if options.ignore_missing_schemas:
            return result_for(obj, "skipped", "no schema"), []
        return result_for(obj, "invalid", "no schema"), [finding_at(
            obj, rule="schema/missing", engine=engine,
            message=f"no schema for {api_version} {kind} (add its CRD to the repo, pass --crd-catalog, "
                    "or --ignore-missing-schemas)")]
    if isinstance(validator, UnusableSchema):
        return result_for(obj, "invalid", "unusable schema"), [finding_at(
            obj, rule="schema/unusable", engine=engine,
            message=f"the schema of {api_version} {kind} (its CRD or catalog entry) cannot be used: "
                    f"{validator.why}")]
    if validator.is_valid(obj.obj):
        return result_for(obj, "valid"), []
    return result_for(obj, "invalid"), error_findings(obj, validator.iter_errors(obj.obj), engine,
                                                      options.sensitive)


class BuiltinEngine:
    name = ENGINE

    def validate(self, objects: Sequence[RenderedObject], options: SchemaOptions) -> ValidationReport:
        resolver = _Resolver(options, objects)
        results: list[ObjectResult] = []
        findings: list[Finding] = []
        with gc_paused():  # results are acyclic: no need to let the collector re-walk every object
            for obj in objects:
                result, found = check_object(obj, resolver.validator, options)
                results.append(result)
                findings.extend(found)
        return ValidationReport(objects=tuple(results), findings=tuple(findings))


def schemas_available() -> bool:
    try:
        kubernetes_schemas(None, True)
    except Exception:  # any failure means "not usable": auto falls back
        return False
    return True


__all__ = ["BuiltinEngine", "check_object", "error_findings", "schemas_available"]
