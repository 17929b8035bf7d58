"""The built-in engine: declarative policies with CEL validations, each compiled once.

Expressions see ``object``, ``oldObject`` (null: CI has no previous state), ``params``,
``namespaceObject`` (the Namespace from the same render, else null) and ``self`` (the ``foreach``
item: a container, the pod spec, …, or the object itself) and ``podSpec`` (the workload's pod spec).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from handoff.policy.celext import KUBERNETES_FUNCTIONS, kubernetes_context
from handoff.policy.celfields import (
    FieldsRead,
    ObjectRead,
    PodSpecCut,
    cut_object,
    cut_pod_spec,
    fields_read,
    object_read,
    pod_spec_cut,
)
from handoff.policy.celmod import cel
from handoff.policy.model import Policy, PolicyContext, PolicyObject, Validation
from handoff.policy.params import resolve_params
from handoff.policy.paths import NAMED_LISTS, get, iterate, join, pod_spec, pod_spec_path
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
    def fields(self) -> FieldsRead | None:
        return fields_read(_texts(self.policy))

    @property
    def variables(self) -> frozenset[str]:
        names: set[str] = set()
        for check in self.validations:
            names.update(check.program.variables())
            if check.message_program is not None:
                names.update(check.message_program.variables())
        return frozenset(names)


def _texts(policy: Policy) -> list[str]:
    """Every CEL expression of ``policy``: its validations' expressions and message expressions."""
    return [text for v in policy.validations for text in (v.expression, v.message_expression) if text]


def namespace_objects(objects: Sequence[PolicyObject]) -> dict[str, Mapping[str, Any]]:
    found: dict[str, Mapping[str, Any]] = {}
    for item in objects:
        if item.obj.get("kind") == "Namespace" and str(item.obj.get("apiVersion", "")) == "v1":
            found[item.ref.name] = item.obj
    return found


# The cel binding logs a warning for every Python function that raises (a wrong-typed value does): the
# engine reports each failed expression as a finding, so the warning would only repeat it on stderr.
logging.getLogger("cel").addHandler(logging.NullHandler())
logging.getLogger("cel").propagate = False


def cel_error_text(error: Exception) -> str:
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    return text if not isinstance(error, KeyError) else f"no such key: {text}"


# CEL's own methods: "undefined function" for one of them means it was called on a value of a type
# it has no overload for (``3.endsWith(':latest')``), not that the policy misspelt it.
_CEL_METHODS = frozenset({
    "contains", "startsWith", "endsWith", "matches", "size", "lowerAscii", "upperAscii", "split",
    "substring", "trim", "replace", "join", "charAt", "format", "quote", "reverse", "exists", "all",
    "exists_one", "map", "filter", "indexOf", "lastIndexOf", *KUBERNETES_FUNCTIONS})
_UNDEFINED = re.compile(r"Undefined variable or function: '([^']+)'")
_JSON_TYPES = ((bool, "a boolean"), (int, "a number"), (float, "a number"), (str, "a string"),
               (list, "a list"), (Mapping, "a map"))


def is_type_error(error: Exception) -> bool:
    """Whether an evaluation failed on a value of the wrong type (no overload for it), as opposed to a
    missing key or a broken expression."""
    text = str(error)
    undefined = _UNDEFINED.search(text)
    return (isinstance(error, TypeError) or "Python function call failed: TypeError" in text
            or (undefined is not None and undefined.group(1) in _CEL_METHODS))


def wrong_type_message(value: Any) -> str:
    """The finding for a policy that cannot evaluate an object because a value it reads has the
    wrong type (Kubernetes never runs CEL on such an object: its schema check refuses it first).
    The finding's own field is shown: it is usually, not always, the culprit."""
    message = "cannot be checked: a value this policy reads has the wrong type"
    if value is None:
        return message
    kind = next((name for t, name in _JSON_TYPES if isinstance(value, t)), type(value).__name__)
    shown = json.dumps(value, default=str)
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    return f"{message} (this field is {kind}: {shown})"


class CelEngine:
    name = "cel"

    def __init__(self, policies: Sequence[Policy], *, fast: bool = True) -> None:
        self._fast_enabled = fast
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
        self._fast_programs: dict[tuple[str, ...], Any] = {}
        self._grouped_programs: dict[tuple[str, ...], tuple[Any, tuple[tuple[int, int], ...]]] = {}
        self._fields = {c.policy.id: c.fields for c in self._policies}
        self._cuts: dict[tuple[str, ...], PodSpecCut | None] = {}
        self._object_reads = {c.policy.id: object_read(_texts(c.policy)) for c in self._policies}
        self._object_cuts: dict[tuple[str, ...], ObjectRead | None] = {}
        self._context = kubernetes_context()
        self._context.add_variable("oldObject", None)

    @property
    def per_object(self) -> bool:
        """Each object's findings depend on that object alone (no policy reads ``namespaceObject``), so
        batches of objects may be evaluated separately, e.g. in worker processes."""
        return not any("namespaceObject" in names for names in self._variables.values())

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
        self._context.add_variable("__params", params)
        by_kind: dict[str, list[_CompiledPolicy]] = {}  # kind prefilter: most policies match few kinds
        for item in objects:
            obj = item.obj
            kind = obj.get("kind")
            if isinstance(kind, str):
                candidates = by_kind.get(kind)
                if candidates is None:
                    candidates = by_kind[kind] = [c for c in active if _kind_admits(c.policy, kind)]
            else:
                candidates = active
            applicable = [c for c in candidates if _matches(c.policy, obj, namespaces)]
            if not applicable:
                continue
            needed: set[str] = set().union(*(self._variables[c.policy.id] for c in applicable))
            # Converting Python data into CEL values dominates the cost, so each object is converted
            # once: the whole object when an expression reads it, else just its pod spec.
            spec_path = pod_spec_path(str(obj.get("kind", "")))
            object_cut = self._object_cut(applicable) if "object" in needed else None
            if ("object" in needed and object_cut is None) or any(not c.policy.foreach for c in applicable):
                self._context.add_variable("object", obj)
                root = "object." + spec_path
            else:  # only the fields the policies select: converting the rest costs and changes nothing
                self._context.add_variable(_POD_SPEC, cut_pod_spec(pod_spec(obj), self._cut(applicable)))
                if object_cut is not None:
                    self._context.add_variable("object", cut_object(obj, object_cut))
                root = _POD_SPEC
            if "namespaceObject" in needed:
                namespace_object = namespaces.get(item.ref.namespace) if item.ref.namespace else None
                self._context.add_variable("namespaceObject", namespace_object)
            targets: dict[str, list[tuple[str, Any]]] = {}
            grouped = None
            if self._fast_enabled:
                grouped = self._grouped(applicable, item, root, severities, targets)
            if grouped is not None:
                findings.extend(grouped)
                applicable = [c for c in applicable if c.policy.foreach not in _POD_FOREACH]
            for compiled in applicable:
                severity = severities[compiled.policy.id]
                fast = self._fast(compiled, item, root, severity, targets) if self._fast_enabled else None
                if fast is None:
                    self._context.add_variable("params", params[compiled.policy.id])
                    self._context.add_variable("podSpec", pod_spec(obj))
                    if "object" in needed or not compiled.policy.foreach:
                        self._context.add_variable("object", obj)
                    fast = self._check(compiled, item, severity)
                findings.extend(fast)
        return ValidationReport(findings=tuple(findings))

    def _object_cut(self, applicable: Sequence[_CompiledPolicy]) -> ObjectRead | None:
        """The chains of ``object`` the policies read (None: the whole object)."""
        key = tuple(c.policy.id for c in applicable)
        if key not in self._object_cuts:
            reads = [self._object_reads[c.policy.id] for c in applicable]
            self._object_cuts[key] = None if any(r is None for r in reads) else ObjectRead(
                frozenset().union(*(r.values for r in reads if r is not None)),
                frozenset().union(*(r.presence for r in reads if r is not None)))
        return self._object_cuts[key]

    def _cut(self, applicable: Sequence[_CompiledPolicy]) -> PodSpecCut | None:
        key = tuple(c.policy.id for c in applicable)
        if key not in self._cuts:
            # a generic foreach path is evaluated on the whole object's data (the slow path), never on __pod
            self._cuts[key] = pod_spec_cut([(c.policy.foreach, self._fields[c.policy.id]) for c in applicable
                                            if c.policy.foreach in _POD_FOREACH], NAMED_LISTS)
        return self._cuts[key]

    def _grouped(self, applicable: Sequence[_CompiledPolicy], item: PolicyObject, root: str,
                 severities: Mapping[str, Severity],
                 targets: dict[str, list[tuple[str, Any]]]) -> list[Finding] | None:
        """Every pod-spec policy of one object in a single execution: the cel binding converts bound
        Python values on each execution, so one execution per object is the fast path."""
        group = []
        for compiled in applicable:
            foreach = compiled.policy.foreach
            if foreach in _POD_FOREACH:
                if foreach not in targets:
                    targets[foreach] = iterate(item.obj, foreach)
                if targets[foreach]:
                    group.append(compiled)
        if not group:
            return []
        key: tuple[str, ...] = (root, *(c.policy.id for c in group))
        compiled_group = self._grouped_programs.get(key)
        if compiled_group is None:
            policies = [c.policy for c in group]
            compiled_group = (cel.compile(grouped_expression(policies, root)), grouped_layout(policies))
            self._grouped_programs[key] = compiled_group
        program, layout = compiled_group
        try:
            results = program.execute(self._context)
        except Exception:
            return None
        per_policy = _rows_per_policy(layout, results)
        if per_policy is None:
            return None
        findings: list[Finding] = []
        for compiled, rows in zip(group, per_policy, strict=True):
            found = self._findings(compiled, item, targets[compiled.policy.foreach], rows,
                                   severities[compiled.policy.id])
            if found is None:
                return None
            findings.extend(found)
        return findings

    def _fast(self, compiled: _CompiledPolicy, item: PolicyObject, root: str, severity: Severity,
              targets: dict[str, list[tuple[str, Any]]]) -> list[Finding] | None:
        """All items and validations of one policy in one execution; None means "use the slow path"
        (a generic ``foreach`` path, an evaluation error, or a non-bool result)."""
        policy = compiled.policy
        if policy.foreach and policy.foreach not in _POD_FOREACH:
            return None
        if policy.foreach not in targets:
            targets[policy.foreach] = iterate(item.obj, policy.foreach)
        if not targets[policy.foreach]:
            return []
        program = self._fast_program(compiled, root)
        try:
            rows = program.execute(self._context)
        except Exception:
            return None
        return self._findings(compiled, item, targets[policy.foreach], rows, severity)

    def _findings(self, compiled: _CompiledPolicy, item: PolicyObject, targets: list[tuple[str, Any]],
                  rows: Any, severity: Severity) -> list[Finding] | None:
        policy = compiled.policy
        if not isinstance(rows, list) or len(rows) != len(targets):
            return None
        findings: list[Finding] = []
        for (base, _), cells in zip(targets, rows, strict=True):
            for check, cell in zip(compiled.validations, cells, strict=True):
                if cell is None:
                    continue
                if not isinstance(cell, str):
                    return None
                validation = check.validation
                message = " ".join(cell.split()) or validation.message
                message = message or f"failed expression: {validation.expression}"
                findings.append(self._finding(policy.id, severity, item, validation, base=base,
                                              message=message))
        return findings

    def _finding(self, rule: str, severity: Severity, item: PolicyObject, validation: Validation, *,
                 base: str, message: str) -> Finding:
        """A finding at the validation's field (``fieldPath``, else its path under the iterated item)."""
        path = validation.field_path or join(base, validation.path)
        file, line, column = item.where(path)
        return Finding(rule=rule, severity=severity, message=message, file=file, line=line, column=column,
                       path=path, object=item.ref, engine=self.name)

    def _fast_program(self, compiled: _CompiledPolicy, root: str) -> Any:
        key = (compiled.policy.id, root)
        program = self._fast_programs.get(key)
        if program is None:
            program = cel.compile(fast_expression(compiled.policy, root))
            self._fast_programs[key] = program
        return program

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
                    failed = True
                    if is_type_error(e):
                        field = check.validation.field_path or join(base, check.validation.path)
                        message = wrong_type_message(get(item.obj, field))
                    else:
                        message = f"expression could not be evaluated: {cel_error_text(e)}"
                if not failed:
                    continue
                findings.append(self._finding(policy.id, severity, item, check.validation, base=base,
                                                   message=message))
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


def _kind_admits(policy: Policy, kind: str) -> bool:
    return not policy.match.kinds or kind in policy.match.kinds


def _matches(policy: Policy, obj: Mapping[str, Any], namespaces: Mapping[str, Mapping[str, Any]]) -> bool:
    match = policy.match
    if match.kinds and obj.get("kind") not in match.kinds:
        return False
    if not (match.namespaces or match.exclude_namespaces or match.label_selector):
        return True  # the built-in pack's policies: nothing more to read from the object
    meta = obj.get("metadata") or {}
    namespace = str(meta.get("namespace", "") or "") if isinstance(meta, Mapping) else ""
    if match.namespaces and namespace not in match.namespaces:
        return False
    if namespace and namespace in match.exclude_namespaces:
        return False
    return selector_matches(match.label_selector, labels_of(obj))


_POD_FOREACH = frozenset({"podSpec", *NAMED_LISTS})
_POD_SPEC = "podSpec"  # bound as a variable of its own when only the (cut) pod spec is converted


def _cells(policy: Policy) -> str:
    """A CEL list of one cell per validation: null when it passes, else its message ("" for the
    static message)."""
    return "[" + ", ".join(
        f"(({v.expression}) ? null : ({v.message_expression or repr('')}))" for v in policy.validations
    ) + "]"


def _items(foreach: str) -> str:
    if foreach == "podSpec":
        return "[podSpec]"
    return "(" + " + ".join(f"(has(podSpec.{n}) ? podSpec.{n} : [])" for n in NAMED_LISTS[foreach]) + ")"


def fast_expression(policy: Policy, root: str) -> str:
    """One CEL expression for a whole policy: for each ``foreach`` item, its ``_cells``. Comprehension
    variables bind ``podSpec``, ``params`` and ``self`` without converting anything again."""
    cells = _cells(policy)
    params = f"__params[{policy.id!r}]"
    if not policy.foreach:
        return f"[object].map(self, [{params}].map(params, {cells})[0])"
    body = f"[{params}].map(params, {_items(policy.foreach)}.map(self, {cells}))[0]"
    return f"[{root}].map(podSpec, {body})[0]"


_PARAMS_WORD = re.compile(r"\bparams\b")


def _reads_params(policy: Policy) -> bool:
    """Whether ``params`` can occur in the policy's expressions (conservatively: the word anywhere)."""
    return any(_PARAMS_WORD.search(text) for text in _texts(policy))


def _bound_cells(policy: Policy) -> str:
    return f"[__params[{policy.id!r}]].map(params, {_cells(policy)})[0]"


def grouped_expression(policies: Sequence[Policy], root: str) -> str:
    """Every pod-spec policy of one object in one CEL expression: per distinct ``foreach``, one map over
    its items giving, for each item, every such policy's ``_cells``. The binding copies a value each
    time a comprehension binds it (about as long as converting it), so each item is bound once for
    all the policies, ``params`` only for a policy that reads it, and ``podSpec`` not at all when
    ``root`` is that variable. ``_rows_per_policy`` turns the result back into each policy's rows."""
    parts = []
    for foreach in dict.fromkeys(p.foreach for p in policies):
        cells = ", ".join(_bound_cells(p) if _reads_params(p) else _cells(p)
                          for p in policies if p.foreach == foreach)
        parts.append(f"{_items(foreach)}.map(self, [{cells}])")
    body = "[" + ", ".join(parts) + "]"
    return body if root == _POD_SPEC else f"[{root}].map(podSpec, {body})[0]"


def grouped_layout(policies: Sequence[Policy]) -> tuple[tuple[int, int], ...]:
    """Where each policy's cells are in ``grouped_expression``'s result: (its foreach's map, its column
    in each item's row)."""
    order = list(dict.fromkeys(p.foreach for p in policies))
    seen: dict[str, int] = {}
    layout = []
    for policy in policies:
        column = seen.get(policy.foreach, 0)
        seen[policy.foreach] = column + 1
        layout.append((order.index(policy.foreach), column))
    return tuple(layout)


def _rows_per_policy(layout: Sequence[tuple[int, int]], results: Any) -> list[list[Any]] | None:
    """``grouped_expression``'s result as each policy's rows (one per item, as ``fast_expression``
    gives them), in the policies' order; None when it has another shape."""
    if not isinstance(results, list) or len(results) != len({part for part, _ in layout}):
        return None
    for item_rows in results:
        if not isinstance(item_rows, list) or not all(isinstance(row, list) for row in item_rows):
            return None
    rows: list[list[Any]] = []
    for part, column in layout:
        item_rows = results[part]
        if any(len(row) <= column for row in item_rows):
            return None
        rows.append([row[column] for row in item_rows])
    return rows
