"""The built-in engine: declarative policies with CEL validations, each compiled once.

Expressions see ``object``, ``oldObject`` (null: CI has no previous state), ``params``,
``namespaceObject`` (the Namespace from the same render, else null) and ``self`` (the ``foreach``
item: a container, the pod spec, …, or the object itself) and ``podSpec`` (the workload's pod spec).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import cel

from handoff.policy.celext import kubernetes_context
from handoff.policy.model import Policy, PolicyContext, PolicyObject, Validation
from handoff.policy.params import resolve_params
from handoff.policy.paths import iterate, join, pod_spec
from handoff.policy.selectors import labels_of, selector_matches
from handoff.report.model import Finding, Severity, ValidationReport


@dataclass(frozen=True)
class _CompiledValidation:
    validation: Validation
    program: Any
    message_program: Any | None


@dataclass(frozen=True)
class _CompiledPolicy:
    policy: Policy
    validations: tuple[_CompiledValidation, ...]

    @property
    def variables(self) -> frozenset[str]:
        names: set[str] = set()
        for check in self.validations:
            names.update(check.program.variables())
            if check.message_program is not None:
                names.update(check.message_program.variables())
        return frozenset(names)


def namespace_objects(objects: Sequence[PolicyObject]) -> dict[str, Mapping[str, Any]]:
    found: dict[str, Mapping[str, Any]] = {}
    for item in objects:
        if item.obj.get("kind") == "Namespace" and str(item.obj.get("apiVersion", "")) == "v1":
            found[item.ref.name] = item.obj
    return found


def cel_error_text(error: Exception) -> str:
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    return text if not isinstance(error, KeyError) else f"no such key: {text}"


class CelEngine:
    name = "cel"

    def __init__(self, policies: Sequence[Policy]) -> None:
        self._policies = tuple(
            _CompiledPolicy(
                policy=p,
                validations=tuple(
                    _CompiledValidation(
                        validation=v,
                        program=cel.compile(v.expression),
                        message_program=cel.compile(v.message_expression) if v.message_expression else None,
                    )
                    for v in p.validations
                ),
            )
            for p in policies
        )
        # Converting an object into CEL values is the dominant cost: bind only what expressions read.
        self._variables = {c.policy.id: c.variables for c in self._policies}
        self._context = kubernetes_context()
        self._context.add_variable("oldObject", None)

    @property
    def policies(self) -> tuple[Policy, ...]:
        return tuple(c.policy for c in self._policies)

    def evaluate(self, objects: Sequence[PolicyObject], context: PolicyContext) -> ValidationReport:
        namespaces = namespace_objects(objects)
        params = {
            c.policy.id: resolve_params(c.policy.id, c.policy.params, context.params) for c in self._policies
        }
        active = [c for c in self._policies if params[c.policy.id].get("enabled", True) is not False]
        severities = {
            c.policy.id: Severity.parse(str(params[c.policy.id]["severity"]))
            if "severity" in params[c.policy.id] else c.policy.severity
            for c in self._policies
        }
        findings: list[Finding] = []
        for item in objects:
            obj = item.obj
            applicable = [c for c in active if _matches(c.policy, obj, namespaces)]
            if not applicable:
                continue
            needed: set[str] = set().union(*(self._variables[c.policy.id] for c in applicable))
            if "object" in needed:
                self._context.add_variable("object", obj)
            if "namespaceObject" in needed:
                namespace_object = namespaces.get(item.ref.namespace) if item.ref.namespace else None
                self._context.add_variable("namespaceObject", namespace_object)
            if "podSpec" in needed:
                self._context.add_variable("podSpec", pod_spec(obj))
            for compiled in applicable:
                self._context.add_variable("params", params[compiled.policy.id])
                findings.extend(self._check(compiled, item, severities[compiled.policy.id]))
        return ValidationReport(findings=tuple(findings))

    def _check(self, compiled: _CompiledPolicy, item: PolicyObject, severity: Severity) -> list[Finding]:
        policy = compiled.policy
        findings: list[Finding] = []
        for base, target in iterate(item.obj, policy.foreach):
            self._context.add_variable("self", target)
            for check in compiled.validations:
                try:
                    verdict = check.program.execute(self._context)
                    failed = verdict is not True
                    message = self._message(check, verdict) if failed else ""
                except Exception as e:  # cel raises RuntimeError/KeyError/TypeError/ValueError per expression
                    failed, message = True, f"expression could not be evaluated: {cel_error_text(e)}"
                if not failed:
                    continue
                path = check.validation.field_path or join(base, check.validation.path)
                line, column = item.locate(path)
                findings.append(Finding(
                    rule=policy.id, severity=severity, message=message, file=item.file, line=line,
                    column=column, path=path, object=item.ref, engine=self.name,
                ))
        return findings

    def _message(self, check: _CompiledValidation, verdict: Any) -> str:
        if not isinstance(verdict, bool):
            return f"expression returned {type(verdict).__name__}, not bool: {check.validation.expression}"
        if check.message_program is not None:
            text = self._safe_message(check.message_program)
            if text:
                return text
        return check.validation.message or f"failed expression: {check.validation.expression}"

    def _safe_message(self, program: Any) -> str:
        """Kubernetes falls back to ``message`` when a messageExpression fails or is empty."""
        try:
            text = program.execute(self._context)
        except Exception:
            return ""
        return " ".join(text.split()) if isinstance(text, str) else ""


def _matches(policy: Policy, obj: Mapping[str, Any], namespaces: Mapping[str, Mapping[str, Any]]) -> bool:
    match = policy.match
    if match.kinds and obj.get("kind") not in match.kinds:
        return False
    meta = obj.get("metadata") or {}
    namespace = str(meta.get("namespace", "") or "") if isinstance(meta, Mapping) else ""
    if match.namespaces and namespace not in match.namespaces:
        return False
    if namespace and namespace in match.exclude_namespaces:
        return False
    return selector_matches(match.label_selector, labels_of(obj))
