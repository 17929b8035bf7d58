"""What every policy engine consumes and produces.

Engines take the rendered objects through ``PolicyObject`` (structurally satisfied by
``handoff.manifests.model.RenderedObject``: the policy and render layers are siblings and do not import
each other) and return a ``ValidationReport`` of findings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from handoff.report.model import ObjectRef, Severity, ValidationReport


class PolicyObject(Protocol):
    """A rendered object with its source location (see ``handoff.manifests.model.RenderedObject``)."""

    @property
    def obj(self) -> Mapping[str, Any]: ...

    @property
    def file(self) -> str: ...

    @property
    def line(self) -> int: ...

    @property
    def ref(self) -> ObjectRef: ...

    def locate(self, path: str) -> tuple[int, int]: ...

    def where(self, path: str) -> tuple[str, int, int]:
        """(file, line, column) for ``path``: where its value was set (a Helm values file line) if known."""
        ...


@dataclass(frozen=True)
class PolicyContext:
    """Evaluation inputs shared by all objects: ``params`` overrides (``{"policy-id": {...}}`` or
    ``{"key": value}`` for every policy declaring ``key``) and an ``env`` name for messages."""

    params: Mapping[str, Any] = field(default_factory=dict)
    env: str = ""


class PolicyEngine(Protocol):
    """One kind of policy (built-in CEL pack, ValidatingAdmissionPolicy, conftest Rego)."""

    name: str

    def evaluate(self, objects: Sequence[PolicyObject], context: PolicyContext) -> ValidationReport: ...


@dataclass(frozen=True)
class Match:
    """Which objects a policy applies to. Empty tuples mean "any"."""

    kinds: tuple[str, ...] = ()
    namespaces: tuple[str, ...] = ()
    exclude_namespaces: tuple[str, ...] = ()
    label_selector: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Validation:
    """One CEL check. ``path`` is relative to the ``foreach`` item; ``field_path`` is absolute."""

    expression: str
    message: str = ""
    message_expression: str = ""
    path: str = ""
    field_path: str = ""
    reason: str = ""


@dataclass(frozen=True)
class Example:
    """A PASS or FAIL fixture from a policy's doc block; ``expect`` lists (line, column, path)."""

    name: str
    verdict: str  # "pass" | "fail"
    yaml: str
    params: Mapping[str, Any] = field(default_factory=dict)
    expect: tuple[tuple[int, int, str], ...] = ()


@dataclass(frozen=True)
class Policy:
    """A declarative policy file: ``policies/<id>.yaml``."""

    id: str
    severity: Severity
    description: str
    validations: tuple[Validation, ...]
    match: Match = field(default_factory=Match)
    foreach: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)
    equivalents: Mapping[str, str] = field(default_factory=dict)
    examples: tuple[Example, ...] = ()
    doc: str = ""
    source: str = ""
    pod_security: str = ""  # the Pod Security Standards level whose control it checks, "" for none
