"""What one propose or promote run did: the workflow builds it, ``--output json`` writes it with
``to_data`` and ``handoff ci`` reads it back with ``from_json``, so CI sees the fields the run had."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from handoff.errors import UsageError
from handoff.report.model import ValidationReport, load_json_object

Operation = Literal["created", "updated", "closed", "none"]
OPERATIONS: tuple[Operation, ...] = ("created", "updated", "closed", "none")


@dataclass(frozen=True)
class ProposeResult:
    operation: Operation
    branch: str
    head_sha: str = ""
    pr_number: int | None = None
    pr_url: str = ""
    changed_files: tuple[str, ...] = ()
    validation: str = "skipped"
    image: str = ""
    previous: str = ""
    message: str = ""
    attempts: int = 1
    report: ValidationReport | None = None
    diff: str = ""
    error: str = ""  # why nothing was proposed, in one line (empty on success)
    title: str = ""  # the proposal's title and body as sent (or, with dry_run, as they would be)
    body: str = ""

    @property
    def failed(self) -> bool:
        return self.validation == "failed" and self.operation == "none"

    def outputs(self) -> dict[str, str]:
        """The CI outputs, as strings (``changed_files`` comma-separated)."""
        return {
            "operation": self.operation,
            "pr_number": "" if self.pr_number is None else str(self.pr_number),
            "pr_url": self.pr_url,
            "branch": self.branch,
            "head_sha": self.head_sha,
            "changed_files": ",".join(self.changed_files),
            "validation": self.validation,
        }

    def to_data(self) -> dict[str, Any]:
        """The JSON form (``handoff propose --output json``); ``from_data`` reads it back."""
        data: dict[str, Any] = {
            **self.outputs(),
            "changed_files": list(self.changed_files),
            "pr_number": self.pr_number,
            "image": self.image,
            "previous": self.previous,
            "message": self.message,
            "attempts": self.attempts,
            "error": self.error,
            "diff": self.diff,
            "title": self.title,
            "body": self.body,
            # `handoff ci github|gitlab` turns it into annotations and JUnit
            "report": None if self.report is None else self.report.to_data(),
        }
        return data

    @classmethod
    def from_data(cls, data: Mapping[str, Any], source: str) -> ProposeResult:
        """The inverse of ``to_data``; it also reads the ``$GITHUB_OUTPUT`` spellings (``changed_files``
        comma-separated, ``pr_number`` a string) and a ``validation`` object holding the report."""
        changed = data.get("changed_files") or ()
        if isinstance(changed, str):
            changed = [f for f in changed.split(",") if f]
        if not isinstance(changed, list | tuple):
            raise UsageError("changed_files must be a list", file=source, key="changed_files")
        report_data = data.get("report")
        report = (ValidationReport.from_data(report_data, source, "report")
                  if isinstance(report_data, Mapping) else None)
        validation = data.get("validation")
        if isinstance(validation, Mapping):
            report = ValidationReport.from_data(validation, source, "validation")
            status = str(validation.get("status") or ("failed" if report.failed() else "passed"))
        else:
            status = "" if validation is None else str(validation)
        operation = str(data.get("operation") or "none")
        if operation not in OPERATIONS:
            raise UsageError(f"operation {operation!r} is none of {', '.join(OPERATIONS)}", file=source,
                             key="operation")
        return cls(
            operation=operation,
            branch=str(data.get("branch") or ""),
            head_sha=str(data.get("head_sha") or ""),
            pr_number=_number(data.get("pr_number"), source),
            pr_url=str(data.get("pr_url") or ""),
            changed_files=tuple(str(f) for f in changed),
            validation=status,
            image=str(data.get("image") or ""),
            previous=str(data.get("previous") or ""),
            message=str(data.get("message") or ""),
            attempts=_number(data.get("attempts"), source, "attempts") or 1,
            report=report,
            diff=str(data.get("diff") or ""),
            error=" ".join(str(data.get("error") or "").split()),
            title=str(data.get("title") or ""),
            body=str(data.get("body") or ""),
        )

    @classmethod
    def from_json(cls, text: str, source: str) -> ProposeResult:
        return cls.from_data(load_json_object(text, source), source)

    def to_json(self) -> str:
        # params come from YAML: a date there is written as its text rather than failing the run
        return json.dumps(self.to_data(), indent=2, default=str)


def _number(value: Any, source: str, key: str = "pr_number") -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
        raise UsageError(f"{key} must be a whole number, not {value!r}", file=source, key=key)
    return int(value)
