"""Repository policies evaluated in a sandboxed child process, never in handoff's own.

The config repo's policies (its ``policies.dirs``: handoff CEL policy files, ValidatingAdmissionPolicies
with their bindings and params, conftest Rego) are hostile input like its charts: Rego's
``opa.runtime().env`` reads the process environment, ``print`` writes to file descriptor 1, and one
rule can build a million terms or double a string 22 times. So they run in one child per run
(``python -m handoff.policy.child``) through the one child runner, ``toolrun.run``, with the
renderers' allow-listed environment (``toolrun.sandboxed``: no tokens, a throwaway HOME as its working
directory), the child memory cap (``--max-child-memory``, the reconciler's ``render.maxChildMemory``) and
a timeout. The child's own environment is emptied before any policy runs, and what a policy prints goes
to ``/dev/null``.

The protocol is one JSON document each way. In: the objects (only ``obj`` and ``ref``), the evaluation
context and the policy sources. Out: ``{"findings": [...]}`` in the report's JSON form, or
``{"error": {...}}`` for a one-line ``HandoffError``. The child knows an object by its index: a finding's
``file`` is that index and a ``column`` of 0 asks for the position of its ``path``, which the parent
fills in from the real object (``where``), as an in-process engine would. A child that dies (memory cap,
crash, timeout, too much output) is a ``PolicyError`` naming the policy files it was evaluating.

The built-in pack is handoff's own, trusted code, and stays in-process (``runner.build_engines``).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from handoff import toolrun
from handoff.errors import ConfigError, HandoffError, PolicyError, ToolMissingError
from handoff.fence import fenced
from handoff.manifests.bounds import DEFAULT_MAX_CHILD_MEMORY
from handoff.policy.model import Match, Policy, PolicyContext, PolicyObject, Validation
from handoff.report.model import Finding, ObjectRef, Severity, ValidationReport

CHILD_MODULE = "handoff.policy.child"
# The findings a child may write: past it the child is killed and the run fails with one line (a rule
# denying once per element of numbers.range would otherwise fill handoff's memory with messages).
MAX_FINDINGS_BYTES = 8 * 1024 * 1024
MEMORY_HINT = "--max-child-memory, HANDOFF_MAX_CHILD_MEMORY or the reconciler's render.maxChildMemory"
# Where the child says which engine it is evaluating, so a child killed meanwhile is named by its files.
PROGRESS_FILE = "policy-progress"
ERROR_CLASSES: Mapping[str, type[HandoffError]] = {
    "ConfigError": ConfigError, "PolicyError": PolicyError, "ToolMissingError": ToolMissingError}
_PACKAGE_ROOT = Path(__file__).resolve().parents[2]  # the directory holding the `handoff` package


@dataclass(frozen=True)
class RepoPolicies:
    """The policies of the config repo (and of ``--policy`` dirs): everything but the built-in pack."""

    policies: tuple[Policy, ...] = ()
    admission: tuple[tuple[Mapping[str, Any], str], ...] = ()
    params: tuple[tuple[Mapping[str, Any], str], ...] = ()
    rego: Mapping[str, str] = field(default_factory=dict)  # file name -> Rego source
    rego_namespaces: tuple[str, ...] = ("main",)

    def __bool__(self) -> bool:
        return bool(self.policies or self.admission or self.rego)

    def files(self, engine: str) -> tuple[str, ...]:
        """The policy files an engine (``cel``, ``vap``, ``rego``; "" for all) evaluates, in order."""
        names: list[str] = []
        if engine in ("", "cel"):
            names += [p.source for p in self.policies]
        if engine in ("", "vap"):
            names += [source for _, source in self.admission]
        if engine in ("", "rego"):
            names += list(self.rego)
        return tuple(dict.fromkeys(n for n in names if n))


class SandboxedEngine:
    """A ``PolicyEngine`` that evaluates ``RepoPolicies`` in one sandboxed child per call."""

    name = "sandbox"
    per_object = False  # one child for all objects: the cost is one process start per run

    def __init__(self, policies: RepoPolicies, *, max_memory: int = DEFAULT_MAX_CHILD_MEMORY,
                 timeout: float = toolrun.DEFAULT_TIMEOUT) -> None:
        self.policies = policies
        self.max_memory = max_memory
        self.timeout = timeout

    def evaluate(self, objects: Sequence[PolicyObject], context: PolicyContext) -> ValidationReport:
        request = json.dumps(request_data(self.policies, objects, context), default=str).encode()
        with toolrun.sandboxed() as env:
            home = Path(env["HOME"])
            env["PYTHONPATH"] = str(_PACKAGE_ROOT)
            argv = [sys.executable, "-P", "-m", CHILD_MODULE, str(home / PROGRESS_FILE)]
            try:
                with fenced(argv, cwd=home, readable=None, offline=True) as wrapped:  # no network
                    done = toolrun.run(wrapped, cwd=home, env=env, input_bytes=request, timeout=self.timeout,
                                       max_stdout=MAX_FINDINGS_BYTES, max_rss=self.max_memory)
            except OSError as e:
                raise PolicyError(f"cannot start the policy sandbox ({sys.executable}): {e}") from e
            except toolrun.MemoryTooLarge as e:
                raise self._died(home, f"killed over the {e.cap // toolrun.MIB} MiB child memory cap "
                                       f"({MEMORY_HINT})") from e
            except toolrun.TimedOut as e:
                raise self._died(home, f"{e}") from e
            except toolrun.OutputTooLarge as e:
                raise self._died(home, f"wrote more than {e.cap} bytes of findings") from e
            if done.returncode != 0:
                raise self._died(home, f"died with exit code {done.returncode}")
            try:
                return _findings(done.stdout, objects)
            except _MalformedAnswer:
                raise self._died(home, "wrote an answer that is not the protocol's") from None

    def _died(self, home: Path, what: str) -> PolicyError:
        try:
            engine = (home / PROGRESS_FILE).read_text(encoding="utf-8").strip()
        except OSError:
            engine = ""
        return PolicyError(f"evaluating repo policies {what}", file=_shown(self.policies.files(engine)))


def _shown(files: Sequence[str]) -> str | None:
    if not files:
        return None
    return ", ".join(files[:3]) + (f" (+{len(files) - 3} more)" if len(files) > 3 else "")


def request_data(policies: RepoPolicies, objects: Sequence[PolicyObject],
                 context: PolicyContext) -> dict[str, Any]:
    return {
        "objects": [{"obj": item.obj, "ref": asdict(item.ref)} for item in objects],
        "context": {"params": dict(context.params), "env": context.env},
        "policies": [_policy_data(p) for p in policies.policies],
        "admission": [[dict(doc), source] for doc, source in policies.admission],
        "params": [[dict(doc), source] for doc, source in policies.params],
        "rego": dict(policies.rego),
        "rego_namespaces": list(policies.rego_namespaces),
    }


def _policy_data(policy: Policy) -> dict[str, Any]:
    data = asdict(replace(policy, examples=()))  # the examples are for `handoff policy test` only
    data["severity"] = int(policy.severity)
    return data


def policy_from_data(data: Mapping[str, Any]) -> Policy:
    """The inverse of ``_policy_data`` (in the child)."""
    match = data.get("match") or {}
    return Policy(
        id=data["id"], severity=Severity(data["severity"]), description=data.get("description", ""),
        validations=tuple(Validation(**v) for v in data.get("validations") or ()),
        match=Match(kinds=tuple(match.get("kinds") or ()), namespaces=tuple(match.get("namespaces") or ()),
                    exclude_namespaces=tuple(match.get("exclude_namespaces") or ()),
                    label_selector=match.get("label_selector") or {}),
        foreach=data.get("foreach", ""), params=data.get("params") or {},
        equivalents=data.get("equivalents") or {},
        doc=data.get("doc", ""), source=data.get("source", ""),
    )


@dataclass(frozen=True)
class PlacedObject:
    """An object in the child, known by its index: positions are the parent's to fill in."""

    obj: Mapping[str, Any]
    ref: ObjectRef
    index: int

    @property
    def file(self) -> str:
        return str(self.index)

    @property
    def line(self) -> int:
        return 0

    def locate(self, path: str) -> tuple[int, int]:
        return 0, 0

    def where(self, path: str) -> tuple[str, int, int]:
        return self.file, 0, 0  # column 0: "the position of the finding's path"


def placed_objects(data: Sequence[Mapping[str, Any]]) -> list[PlacedObject]:
    return [PlacedObject(obj=item["obj"], ref=ObjectRef(**item["ref"]), index=index)
            for index, item in enumerate(data)]


def findings_data(findings: Sequence[Finding]) -> list[dict[str, Any]]:
    """Findings in the report's JSON form, in their order (``to_data`` sorts them; one at a time keeps it)."""
    return [ValidationReport(findings=(f,)).to_data()["findings"][0] for f in findings]


def error_data(error: HandoffError) -> dict[str, Any]:
    kind = type(error).__name__ if type(error).__name__ in ERROR_CLASSES else "PolicyError"
    return {"type": kind, "message": error.message, "file": error.file, "line": error.line, "key": error.key}


class _MalformedAnswer(Exception):
    """The child's stdout is not one protocol answer."""


def _findings(stdout: bytes, objects: Sequence[PolicyObject]) -> ValidationReport:
    try:
        answer = json.loads(stdout)
    except ValueError:
        raise _MalformedAnswer from None
    if not isinstance(answer, Mapping):
        raise _MalformedAnswer
    error = answer.get("error")
    if isinstance(error, Mapping):
        cls = ERROR_CLASSES.get(str(error.get("type")), PolicyError)
        line = error.get("line")
        raise cls(str(error.get("message", "")), file=error.get("file") or None,
                  line=line if isinstance(line, int) else None, key=error.get("key") or None)
    try:
        report = ValidationReport.from_data({"findings": answer.get("findings")}, "policy sandbox")
        return ValidationReport(findings=tuple(_placed(f, objects) for f in report.findings))
    except (HandoffError, ValueError, IndexError):
        raise _MalformedAnswer from None


def _placed(finding: Finding, objects: Sequence[PolicyObject]) -> Finding:
    """``finding`` at the real object's position: its ``file`` is the object's index in ``objects``."""
    index = int(finding.file)
    if not 0 <= index < len(objects):
        raise IndexError(index)
    item = objects[index]
    if finding.column == 0:
        file, line, column = item.where(finding.path)
    else:
        file, line, column = item.file, item.line, finding.column
    return replace(finding, file=file, line=line, column=column)
