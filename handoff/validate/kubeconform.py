"""The kubeconform engine: runs the binary against the same standalone schemas the built-in engine
uses (exported once to a cache dir) and CRD schemas written in the catalog layout, then maps its JSON
output back to handoff's report model with source positions."""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Sequence
from itertools import chain
from pathlib import Path
from typing import Any

from handoff.errors import RenderError
from handoff.fence import fenced
from handoff.manifests.model import RenderedObject
from handoff.manifests.sensitive import (
    BUILTIN_FIELDS,
    MAX_EXCERPT,
    SensitiveField,
    is_sensitive_path,
    object_secret_strings,
    scrub,
)
from handoff.report.model import Finding, ObjectResult, ValidationReport
from handoff.toolrun import TimedOut, find_tool, require_tool, run, sandboxed
from handoff.validate.crds import schemas_from_objects, write_catalog
from handoff.validate.engine import SchemaOptions, finding_at, missing_kind, quote, result_for
from handoff.validate.removed import removed_message
from handoff.validate.schemas import kubernetes_schemas

ENGINE = "kubeconform"
_KIND_TEMPLATE = "{{ .ResourceKind }}{{ .KindSuffix }}.json"
_CATALOG_TEMPLATE = "{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json"
# kubeconform's msg flattens the jsonschema error tree onto one line: "… - at '/spec': validation
# failed   - at '/spec/replicas': got string, want …"; the indentation before each "-" is the depth.
_CAUSE = re.compile(r"( *)- at '([^']*)': ")
_GROUP = "validation failed"
_TYPE_CAUSE = re.compile(r"got [a-z]+, want [a-z]+(?:(?:, | or )[a-z]+)*")  # names types, never the value
_QUOTED = re.compile(r"'([^']*)'")
_LONG_QUOTE = re.compile(f"('|\")([^'\"]{{{MAX_EXCERPT + 1},}})\\1")
_MISSING = object()


def schema_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "handoff" / "schemas"


def kubeconform_schema_dir(version: str | None, strict: bool = True, cache: Path | None = None) -> Path:
    """A local schema dir for kubeconform holding the built-in engine's standalone schemas."""
    schemas = kubernetes_schemas(version, strict)
    name = f"v{schemas.version}.0-standalone{'-strict' if strict else ''}"
    return schemas.export((cache or schema_cache_dir()) / name)


def available() -> bool:
    return find_tool("kubeconform") is not None


def _path_of(pointer: str) -> str:
    """kubeconform's ``/spec/containers/0/image`` → ``spec.containers[0].image``."""
    out = ""
    for part in (p for p in pointer.split("/") if p):
        text = part.replace("~1", "/").replace("~0", "~")
        if text.isdigit():
            out += f"[{text}]"
        else:
            out = f"{out}.{text}" if out else text
    return out


def leaf_causes(message: str) -> list[tuple[str, str]]:
    """``(JSON pointer, message)`` of each cause in kubeconform's msg. A "validation failed" group is
    replaced by its members; any other cause with members (a failed ``oneOf``) is kept whole, as the
    built-in engine reports it."""
    marks = list(_CAUSE.finditer(message))
    if not marks:
        return []
    entries = [(len(m[1]), m[2], message[m.end():nxt.start() if nxt else None].strip())
               for m, nxt in zip(marks, [*marks[1:], None], strict=True)]
    causes: list[tuple[str, str]] = []
    inside: int | None = None  # the indentation of a kept cause whose members are skipped
    for i, (indent, pointer, text) in enumerate(entries):
        if inside is not None and indent > inside:
            continue
        inside = None
        has_members = i + 1 < len(entries) and entries[i + 1][0] > indent
        if has_members and text == _GROUP:
            continue
        causes.append((pointer, text))
        if has_members:
            inside = indent
    return causes


def _value_at(data: Any, pointer: str) -> Any:
    for part in (p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/") if p):
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return _MISSING
    return data


def _bounded(obj: RenderedObject, pointer: str, text: str, sensitive: Sequence[SensitiveField]) -> str:
    """kubeconform's cause with the offending value it may quote (``'hunter2' is not valid 'email'``)
    masked or cut to a bounded excerpt, and any other long quote cut."""
    value = _value_at(obj.obj, pointer)
    path = _path_of(pointer)
    if path and is_sensitive_path(obj.obj, path, sensitive):
        # kubeconform renders values its own way (a big integer as a float): only a cause that names
        # types alone is kept, next to the mask; no form of the value is searched for
        shown = "<secret>" if value is _MISSING else quote(obj, path, value, sensitive)
        return f"{shown} is invalid" + (f": {text}" if _TYPE_CAUSE.fullmatch(text) else " under the schema")
    if value is not _MISSING and not isinstance(value, (dict, list)):
        for shown in {str(value), json.dumps(value)}:
            if len(shown) > 1 and shown in text:
                text = text.replace(shown, quote(obj, _path_of(pointer), value, sensitive).strip('"'))
    return _LONG_QUOTE.sub(lambda m: f"{m[1]}{m[2][:MAX_EXCERPT - 1]}…{m[1]}", text)


def cause_findings(obj: RenderedObject, pointer: str, text: str,
                   sensitive: Sequence[SensitiveField] = BUILTIN_FIELDS) -> list[Finding]:
    """One cause as findings worded like the built-in engine's: one per unknown field or missing
    property, each at its own path."""
    base = _path_of(pointer)
    if text.startswith("additional propert") and text.endswith("not allowed"):
        return [finding_at(obj, rule="schema/unknown-field", path=f"{base}.{name}" if base else name,
                           engine=ENGINE, message=f"unknown field {name!r} (strict mode)",
                           sensitive=sensitive)
                for name in _QUOTED.findall(text)]
    where = f"{base}: " if base else ""
    if text.startswith("missing propert"):
        return [finding_at(obj, rule="schema/required", path=base, engine=ENGINE, sensitive=sensitive,
                           message=f"{where}{json.dumps(name)} is a required property")
                for name in _QUOTED.findall(text)]
    return [finding_at(obj, rule="schema", path=base, engine=ENGINE, sensitive=sensitive,
                       message=f"{where}{_bounded(obj, pointer, text, sensitive)}")]


class KubeconformEngine:
    name = ENGINE

    def validate(self, objects: Sequence[RenderedObject], options: SchemaOptions) -> ValidationReport:
        binary = require_tool("kubeconform", "validate with --engine kubeconform")
        schema_dir = kubeconform_schema_dir(options.kubernetes_version, options.strict)
        version = kubernetes_schemas(options.kubernetes_version, options.strict).version
        results: list[ObjectResult | None] = [None] * len(objects)
        findings: list[Finding] = []
        with tempfile.TemporaryDirectory(prefix="handoff-kubeconform-") as tmp:
            work = Path(tmp)
            crd_dir = write_catalog(schemas_from_objects(chain(options.extra_crds, objects),
                                                         strict=options.strict), work / "crds")
            inputs = work / "objects"
            inputs.mkdir()
            for i, obj in enumerate(objects):
                problem = missing_kind(obj, ENGINE)
                if problem is not None:  # kubeconform says "missing 'kind' key" without a place
                    results[i] = result_for(obj, "invalid", problem.message)
                    findings.append(problem)
                    continue
                (inputs / f"{i:07d}.json").write_text(json.dumps(obj.obj), encoding="utf-8")
            argv = [str(binary), *(["-strict"] if options.strict else []), "-output", "json", "-verbose",
                    "-kubernetes-version", f"{version}.0",
                    "-schema-location", f"{schema_dir}/{_KIND_TEMPLATE}",
                    "-schema-location", f"{crd_dir}/{_CATALOG_TEMPLATE}"]
            for catalog in options.crd_catalogs:
                argv += ["-schema-location", f"{catalog}/{_CATALOG_TEMPLATE}"]
            if options.ignore_missing_schemas:
                argv.append("-ignore-missing-schemas")
            argv.append(str(inputs))
            try:
                # no tokens, no network, and only its inputs and schema dirs: a kind spelled "../x" names no
                # file elsewhere
                seen = [inputs, Path(schema_dir), Path(crd_dir), *map(Path, options.crd_catalogs)]
                with sandboxed() as env, fenced(argv, cwd=None, readable=seen, offline=True) as wrapped:
                    proc = run(wrapped, env=env)
            except TimedOut as e:
                raise RenderError(f"kubeconform {e}") from e
            try:
                report: dict[str, Any] = json.loads(proc.stdout or b"{}")
            except (json.JSONDecodeError, UnicodeDecodeError) as e:
                stderr = proc.stderr.decode(errors="replace").strip()[:200]
                raise RenderError(f"kubeconform: unreadable output ({stderr})") from e
        for resource in report.get("resources") or ():
            index = int(Path(str(resource.get("filename", ""))).stem)
            result, found = self._convert(objects[index], resource, options.sensitive)
            results[index] = result
            findings.extend(found)
        final = [r if r is not None else result_for(o, "valid")
                 for r, o in zip(results, objects, strict=True)]
        return ValidationReport(objects=tuple(final), findings=tuple(findings))

    @staticmethod
    def _convert(obj: RenderedObject, resource: dict[str, Any],
                 sensitive: Sequence[SensitiveField]) -> tuple[ObjectResult, list[Finding]]:
        status = str(resource.get("status", "")).lower().removeprefix("status")
        if status == "valid":
            return result_for(obj, "valid"), []
        if status in ("skipped", "empty"):
            return result_for(obj, "skipped", "no schema"), []
        message = scrub(str(resource.get("msg", "invalid")), object_secret_strings(obj, sensitive))
        causes = leaf_causes(message) or [(str(e.get("path", "")), str(e.get("msg", "")))
                                          for e in resource.get("validationErrors") or ()]
        if causes:
            return result_for(obj, "invalid"), [f for pointer, text in causes
                                                for f in cause_findings(obj, pointer, text, sensitive)]
        ref = obj.ref
        removed = removed_message(ref.api_version, ref.kind) if "could not find schema" in message else None
        if removed is not None:
            return result_for(obj, "invalid", "removed API"), [
                finding_at(obj, rule="schema/removed-api", path="apiVersion", engine=ENGINE, message=removed)]
        rule = "schema/missing" if "could not find schema" in message else "schema"
        return result_for(obj, "invalid", message), [
            finding_at(obj, rule=rule, engine=ENGINE, message=message, sensitive=sensitive)]
