"""ValidatingAdmissionPolicy + ValidatingAdmissionPolicyBinding, evaluated in CI as the API server would.

Every rendered object is treated as a CREATE request: ``object`` is the object, ``oldObject`` is null,
``request`` carries the operation, kind and namespace; ``params`` come from objects of the policy's
``paramKind`` in the same render (``paramRef`` by name or selector); ``namespaceObject`` is the
Namespace from the render, if any. Deny → error, Warn → warning, Audit → info.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from handoff.errors import ConfigError
from handoff.policy.cel_engine import cel_error_text, namespace_objects
from handoff.policy.celext import kubernetes_context
from handoff.policy.celmod import cel
from handoff.policy.model import PolicyContext, PolicyObject
from handoff.policy.selectors import labels_of, selector_matches
from handoff.report.model import Finding, Severity, ValidationReport

API_GROUP = "admissionregistration.k8s.io"
POLICY_KIND = "ValidatingAdmissionPolicy"
BINDING_KIND = "ValidatingAdmissionPolicyBinding"
_ACTIONS = {"Deny": Severity.ERROR, "Warn": Severity.WARNING, "Audit": Severity.INFO}
CLUSTER_SCOPED_KINDS = frozenset({
    "Namespace", "Node", "PersistentVolume", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition",
    "StorageClass", "PriorityClass", "IngressClass", "RuntimeClass", "CSIDriver", "CSINode",
    "VolumeAttachment",
    "APIService", "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration", POLICY_KIND, BINDING_KIND,
    "ValidatingAdmissionPolicy", "MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding",
    "ClusterIssuer", "PodSecurityPolicy",
})
_IRREGULAR_PLURALS = {"Endpoints": "endpoints", "PodSecurityPolicy": "podsecuritypolicies"}


def resource_name(kind: str) -> str:
    """The plural resource name RBAC and admission rules use (``Deployment`` → ``deployments``)."""
    if kind in _IRREGULAR_PLURALS:
        return _IRREGULAR_PLURALS[kind]
    lower = kind.lower()
    if lower.endswith(("s", "x", "ch", "sh")):
        return lower + "es"
    if lower.endswith("y") and lower[-2:-1] not in "aeiou":
        return lower[:-1] + "ies"
    return lower + "s"


def is_vap_document(doc: Any) -> bool:
    return (isinstance(doc, Mapping) and str(doc.get("apiVersion", "")).startswith(API_GROUP + "/")
            and doc.get("kind") in (POLICY_KIND, BINDING_KIND))


@dataclass(frozen=True)
class AdmissionPolicy:
    name: str
    spec: Mapping[str, Any]
    source: str
    validations: tuple[tuple[Mapping[str, Any], Any, Any | None], ...] = ()
    conditions: tuple[tuple[str, Any], ...] = ()
    variables: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def compile(cls, doc: Mapping[str, Any], source: str) -> AdmissionPolicy:
        name = str((doc.get("metadata") or {}).get("name", ""))
        spec = doc.get("spec") or {}

        def program(text: Any, key: str) -> Any:
            try:
                return cel.compile(str(text))
            except Exception as e:
                raise ConfigError(f"ValidatingAdmissionPolicy {name!r}: invalid CEL: {cel_error_text(e)}",
                                  file=source, key=key) from None

        validations = tuple(
            (v, program(v.get("expression", ""), f"spec.validations[{i}].expression"),
             program(v["messageExpression"], f"spec.validations[{i}].messageExpression")
             if v.get("messageExpression") else None)
            for i, v in enumerate(spec.get("validations") or ())
        )
        conditions = tuple(
            (str(c.get("name", "")),
             program(c.get("expression", ""), f"spec.matchConditions[{i}].expression"))
            for i, c in enumerate(spec.get("matchConditions") or ())
        )
        variables = tuple(
            (str(v.get("name", "")), program(v.get("expression", ""), f"spec.variables[{i}].expression"))
            for i, v in enumerate(spec.get("variables") or ())
        )
        return cls(name=name, spec=spec, source=source, validations=validations, conditions=conditions,
                   variables=variables)

    @property
    def fails_closed(self) -> bool:
        return bool(self.spec.get("failurePolicy", "Fail") != "Ignore")


@dataclass(frozen=True)
class Binding:
    name: str
    spec: Mapping[str, Any]
    source: str

    @property
    def severity(self) -> Severity | None:
        actions = [_ACTIONS[a] for a in self.spec.get("validationActions") or () if a in _ACTIONS]
        return max(actions) if actions else None


@dataclass
class _Request:
    item: PolicyObject
    namespace: str
    namespace_object: Mapping[str, Any] | None
    findings: list[Finding] = field(default_factory=list)


def _group_version(api_version: str) -> tuple[str, str]:
    group, _, version = api_version.rpartition("/")
    return group, version


def _rule_matches(rule: Mapping[str, Any], obj: Mapping[str, Any]) -> bool:
    group, version = _group_version(str(obj.get("apiVersion", "")))
    resource = resource_name(str(obj.get("kind", "")))

    def allows(key: str, value: str) -> bool:
        listed = [str(v) for v in rule.get(key) or ()]
        return "*" in listed or value in listed

    operations = [str(o) for o in rule.get("operations") or ()]
    resources = [str(r) for r in rule.get("resources") or ()]
    return (allows("apiGroups", group) and allows("apiVersions", version)
            and ("*" in operations or "CREATE" in operations)
            and ("*" in resources or "*/*" in resources or resource in resources))


def _matches_resources(
    match: Mapping[str, Any] | None, request: _Request, namespaces: Mapping[str, Mapping[str, Any]]
) -> bool:
    if not match:
        return True
    obj = request.item.obj
    rules = match.get("resourceRules")
    if rules is not None and not any(_rule_matches(r, obj) for r in rules):
        return False
    if any(_rule_matches(r, obj) for r in match.get("excludeResourceRules") or ()):
        return False
    if not selector_matches(match.get("objectSelector"), labels_of(obj)):
        return False
    selector = match.get("namespaceSelector")
    if selector:
        if obj.get("kind") == "Namespace":
            labels: Mapping[str, Any] = labels_of(obj)
        elif not request.namespace:
            return True  # cluster-scoped objects are not filtered by namespaceSelector
        else:
            labels = {"kubernetes.io/metadata.name": request.namespace,
                      **labels_of(namespaces.get(request.namespace))}
        if not selector_matches(selector, labels):
            return False
    return True


class VapEngine:
    """Evaluates admission policies and their bindings against rendered objects."""

    name = "vap"

    def __init__(self, policies: Sequence[AdmissionPolicy], bindings: Sequence[Binding],
                 params: Sequence[Mapping[str, Any]] = (), default_namespace: str = "default") -> None:
        self._policies = {p.name: p for p in policies}
        self._bindings = tuple(bindings)
        self._extra_params = tuple(params)
        self._default_namespace = default_namespace
        self._context = kubernetes_context()
        self._context.add_variable("oldObject", None)

    def evaluate(self, objects: Sequence[PolicyObject], context: PolicyContext) -> ValidationReport:
        namespaces = namespace_objects(objects)
        findings: list[Finding] = []
        for item in objects:
            if is_vap_document(item.obj):
                continue
            kind = str(item.obj.get("kind", ""))
            namespace = ""
            if kind not in CLUSTER_SCOPED_KINDS:
                namespace = item.ref.namespace or self._default_namespace
            request = _Request(item=item, namespace=namespace, namespace_object=namespaces.get(namespace))
            for binding in self._bindings:
                policy = self._policies.get(str(binding.spec.get("policyName", "")))
                if policy is None or binding.severity is None:
                    continue
                if not (_matches_resources(policy.spec.get("matchConstraints"), request, namespaces)
                        and _matches_resources(binding.spec.get("matchResources"), request, namespaces)):
                    continue
                self._evaluate(policy, binding, request, objects)
            findings.extend(request.findings)
        return ValidationReport(findings=tuple(findings))

    def _evaluate(self, policy: AdmissionPolicy, binding: Binding, request: _Request,
                  objects: Sequence[PolicyObject]) -> None:
        """One (policy, binding) pair against one object, once per matching param."""
        obj = request.item.obj
        self._context.add_variable("object", obj)
        self._context.add_variable("namespaceObject", request.namespace_object)
        group, version = _group_version(str(obj.get("apiVersion", "")))
        self._context.add_variable("request", {
            "operation": "CREATE", "namespace": request.namespace, "name": request.item.ref.name,
            "kind": {"group": group, "version": version, "kind": obj.get("kind", "")},
            "resource": {"group": group, "version": version,
                         "resource": resource_name(str(obj.get("kind", "")))},
            "dryRun": True,
        })
        candidates = [o.obj for o in objects] + list(self._extra_params)
        for params in self._params(policy, binding, request, candidates):
            if params is _MISSING:
                kind = (policy.spec.get("paramKind") or {}).get("kind", "param")
                message = f"failed to find params: no {kind} matches the paramRef"
                self._report(policy, binding, request, message, "")
                continue
            self._context.add_variable("params", params)
            self._run(policy, binding, request)

    def _run(self, policy: AdmissionPolicy, binding: Binding, request: _Request) -> None:
        try:
            for _name, condition in policy.conditions:
                if condition.execute(self._context) is not True:
                    return
        except Exception as e:
            if policy.fails_closed:
                self._report(policy, binding, request,
                             f"match condition resulted in error: {cel_error_text(e)}", "")
            return
        variables: dict[str, Any] = {}
        for var_name, var_program in policy.variables:
            self._context.add_variable("variables", variables)
            try:
                variables[var_name] = var_program.execute(self._context)
            except Exception:  # noqa: S112 - Kubernetes evaluates variables lazily: only a use fails
                continue
        self._context.add_variable("variables", variables)
        for validation, program, message_program in policy.validations:
            expression = str(validation.get("expression", ""))
            try:
                verdict = program.execute(self._context)
            except Exception as e:
                if policy.fails_closed:
                    self._report(policy, binding, request,
                                 f"expression '{expression}' resulted in error: {cel_error_text(e)}",
                                 str(validation.get("fieldPath", "")))
                continue
            if verdict is True:
                continue
            message = ""
            if message_program is not None:
                try:
                    text = message_program.execute(self._context)
                    message = " ".join(text.split()) if isinstance(text, str) else ""
                except Exception:
                    message = ""
            message = message or str(validation.get("message", "") or "")
            message = message or f"failed expression: {expression}"
            self._report(policy, binding, request, message, str(validation.get("fieldPath", "")))

    def _report(self, policy: AdmissionPolicy, binding: Binding, request: _Request, message: str,
                field_path: str) -> None:
        severity = binding.severity or Severity.ERROR
        # The API server's own wording, so a CI failure reads like the admission error it prevents.
        who = f"ValidatingAdmissionPolicy '{policy.name}' with binding '{binding.name}'"
        text = f"{who} denied request: {message}" if severity is Severity.ERROR else \
            f"Validation failed for {who}: {message}"
        path = field_path.lstrip(".")
        file, line, column = request.item.where(path) if path else (request.item.file, request.item.line, 1)
        request.findings.append(Finding(
            rule=policy.name, severity=severity, message=text, file=file, line=line,
            column=column, path=path, object=request.item.ref, engine=self.name,
        ))

    def _params(self, policy: AdmissionPolicy, binding: Binding, request: _Request,
                candidates: Sequence[Mapping[str, Any]]) -> list[Any]:
        param_kind = policy.spec.get("paramKind")
        ref = binding.spec.get("paramRef")
        if not param_kind or not ref:
            return [None]
        wanted_namespace = ref.get("namespace") or request.namespace
        found = []
        for obj in candidates:
            wanted = (param_kind.get("apiVersion"), param_kind.get("kind"))
            if (obj.get("apiVersion"), obj.get("kind")) != wanted:
                continue
            meta = obj.get("metadata") or {}
            namespace = str(meta.get("namespace", "") or "")
            # A param without a namespace is taken as cluster-scoped: CI cannot ask the API server.
            if namespace and wanted_namespace and namespace != wanted_namespace:
                continue
            if ref.get("name"):
                if meta.get("name") == ref["name"]:
                    found.append(obj)
            elif "selector" in ref and selector_matches(ref.get("selector") or {}, labels_of(obj)):
                found.append(obj)
        if found:
            return found
        return [] if ref.get("parameterNotFoundAction") == "Allow" else [_MISSING]


_MISSING: Any = object()


def load_admission_documents(
    documents: Sequence[tuple[Mapping[str, Any], str]], params: Sequence[Mapping[str, Any]] = ()
) -> VapEngine:
    """An engine from ``(document, source)`` pairs holding policies and bindings, plus param objects."""
    policies = [AdmissionPolicy.compile(d, src) for d, src in documents if d.get("kind") == POLICY_KIND]
    bindings = [
        Binding(name=str((d.get("metadata") or {}).get("name", "")), spec=d.get("spec") or {}, source=src)
        for d, src in documents if d.get("kind") == BINDING_KIND
    ]
    return VapEngine(policies, bindings, params)
