"""conftest-compatible Rego through regopy (rego-cpp), Rego v1 syntax as in conftest ≥ 0.56.

Each rendered object is one ``input`` (as conftest tests each YAML document). In every namespace
(default ``main``) the rules ``deny``, ``violation`` and ``warn``, and their ``deny_<x>``-style
variants, are collected; a result is a message string or an object with ``msg``. ``deny``/``violation``
are errors, ``warn`` warnings. Not supported: ``exception`` rules, ``data`` files, ``--combine``,
and builtins rego-cpp lacks (``http.send``, ``net.*``, ``json.match_schema``).
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import re
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from handoff.errors import ConfigError, PolicyError, ToolMissingError
from handoff.policy.model import PolicyContext, PolicyObject
from handoff.report.model import Finding, Severity, ValidationReport

_RULE = re.compile(r"^(deny|violation|warn)(_[A-Za-z0-9_]+)?$")
_PACKAGE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_ERROR_AT = re.compile(r"-- (?P<file>[^:\n]+):(?P<line>\d+):\d+")
_ERROR_NODE = re.compile(r"\(error \d+:(?P<file>[^|]+)\|(?P<offset>\d+)\|")
_ERROR_MSG = re.compile(r"\(errormsg \d+:([^)]*)\)")


def _regopy() -> Any:
    try:
        return importlib.import_module("regopy")
    except ImportError as e:  # the `rego` extra is optional
        raise ToolMissingError("Rego policies need regopy: pip install 'handoff-gitops[rego]'") from e
    except OSError as e:  # regopy's native library needs glibc >= 2.34
        raise ToolMissingError(f"regopy cannot load its native library: {e}") from e


class RegoEngine:
    name = "rego"

    def __init__(self, files: Sequence[Path], namespaces: Sequence[str] = ("main",), *,
                 sources: Mapping[str, str] | None = None) -> None:
        """The modules of ``files``, or ``sources`` (name → text) already read, e.g. by the policy
        sandbox's parent."""
        for namespace in namespaces:
            if not _PACKAGE.match(namespace):
                raise ConfigError(f"invalid Rego namespace {namespace!r}")
        self._namespaces = tuple(namespaces)
        self._regopy = _regopy()
        self._rego = self._regopy.Interpreter()
        self._sources: dict[str, str] = dict(sources) if sources is not None else read_sources(files)
        for name, source in self._sources.items():
            failure = None
            with _native_stdout_captured() as printed:
                try:
                    self._rego.add_module(name, source)
                except self._regopy.RegoError as e:
                    failure = str(e)
            if failure is not None:
                raise _rego_error(failure, self._sources, printed)
        # Parse and compile now, so a syntax error is one clear line instead of a failure per object.
        with _native_stdout_captured():
            self._query({})

    def _query(self, value: Mapping[str, Any]) -> dict[str, Any]:
        results: dict[str, Any] = {}
        try:
            self._rego.set_input_term(json.dumps(value))
            for namespace in self._namespaces:
                try:
                    output = self._rego.query(f"data.{namespace}")
                except ValueError:  # regopy's Output json.loads rego-cpp's result text, which may not be JSON
                    raise PolicyError(
                        f"Rego: evaluating data.{namespace} gave a result rego-cpp cannot write as JSON (it "
                        "does so for sprintf of a string held in a local variable: format input values or "
                        "use concat)", file=self._package_file(namespace)) from None
                if not output.ok():
                    if str(output).strip() == "<error>":  # rego-cpp gives no detail for evaluation errors
                        raise ConfigError(f"Rego: evaluating data.{namespace} failed (a runtime error "
                                          "such as conflicting values for one complete rule)",
                                          file=self._package_file(namespace))
                    raise _rego_error(str(output), self._sources)
                expressions = output.results[0].expressions if output.results else []
                document = expressions[0] if expressions else {}
                results[namespace] = document if isinstance(document, dict) else {}
        except self._regopy.RegoError as e:
            raise _rego_error(str(e), self._sources) from None
        return results

    def _package_file(self, namespace: str) -> str | None:
        """The one module declaring ``package <namespace>`` (or the only module), for an error line."""
        if len(self._sources) == 1:
            return next(iter(self._sources))
        declaring = [name for name, text in self._sources.items()
                     if re.search(rf"^package\s+{re.escape(namespace)}\s*$", text, re.MULTILINE)]
        return declaring[0] if len(declaring) == 1 else None

    def evaluate(self, objects: Sequence[PolicyObject], context: PolicyContext) -> ValidationReport:
        # A policy's print() writes to fd 1 while it is evaluated: never onto handoff's own stdout.
        with _native_stdout_captured():
            return self._evaluate(objects)

    def _evaluate(self, objects: Sequence[PolicyObject]) -> ValidationReport:
        findings: list[Finding] = []
        for item in objects:
            for namespace, document in self._query(item.obj).items():
                for rule, value in sorted(document.items()):
                    match = _RULE.match(rule)
                    if match is None:
                        continue
                    severity = Severity.WARNING if match.group(1) == "warn" else Severity.ERROR
                    for message in _messages(value, rule):
                        findings.append(Finding(
                            rule=f"{namespace}.{rule}", severity=severity, message=message, file=item.file,
                            line=item.line, column=1, object=item.ref, engine=self.name,
                        ))
        return ValidationReport(findings=tuple(findings))


def read_sources(files: Sequence[Path]) -> dict[str, str]:
    """Each Rego file's text by its name; an unreadable one is a ConfigError naming it."""
    sources: dict[str, str] = {}
    for path in files:
        try:
            sources[str(path)] = path.read_text(encoding="utf-8")
        except OSError as e:
            raise ConfigError(f"cannot read Rego file: {e.strerror}", file=str(path)) from e
        except UnicodeDecodeError as e:
            raise ConfigError(f"Rego file is not UTF-8 (byte {e.start})", file=str(path)) from e
    return sources


def _messages(value: Any, rule: str) -> list[str]:
    items = value if isinstance(value, list) else [value]
    messages = []
    for result in items:
        if isinstance(result, str):
            messages.append(result)
        elif isinstance(result, Mapping) and isinstance(result.get("msg"), str):
            messages.append(result["msg"])
        elif result is True:
            continue  # a boolean `deny if {…}` has no message; conftest reports nothing for it either
        else:
            shown = json.dumps(result)[:80]
            raise PolicyError(f"rule {rule} returned {shown}: expected a string or an object with `msg`")
    return messages


@contextlib.contextmanager
def _native_stdout_captured() -> Iterator[list[str]]:
    """rego-cpp prints compile errors straight to file descriptor 1, where they would corrupt
    ``--output json``: point fd 1 at a temporary file meanwhile; the list holds what it printed."""
    printed: list[str] = []
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with tempfile.TemporaryFile() as sink:
            os.dup2(sink.fileno(), 1)
            try:
                yield printed
            finally:
                os.dup2(saved, 1)
                sink.seek(0)
                printed.append(sink.read(64 * 1024).decode("utf-8", "replace"))
    finally:
        os.close(saved)


def _rego_error(text: str, sources: Mapping[str, str], printed: Sequence[str] = ()) -> ConfigError:
    """rego-cpp reports either ``-- file:line:col`` text or ``(error N:file|offset|len (errormsg N:msg))``;
    what it printed on stdout (``printed``) has the ``-- file:line:col`` form and is tried first."""
    for shown in printed:
        if _ERROR_AT.search(shown):
            text = shown
    where = _ERROR_AT.search(text)
    if where:
        lines = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("Errors")]
        message = lines[0] if lines else "Rego error"
        return ConfigError(f"Rego: {message}", file=where.group("file"), line=int(where.group("line")))
    node = _ERROR_NODE.search(text)
    message_match = _ERROR_MSG.search(text)
    message = message_match.group(1).strip() if message_match else text.strip().splitlines()[0]
    if node is None:
        return ConfigError(f"Rego: {message}")
    file, offset = node.group("file"), int(node.group("offset"))
    line = sources[file][:offset].count("\n") + 1 if file in sources else None
    return ConfigError(f"Rego: {message}", file=file, line=line)
