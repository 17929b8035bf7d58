"""Run a policy's own PASS/FAIL examples (``handoff policy test``, like ``conftest verify``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from handoff.policy.cel_engine import CelEngine
from handoff.policy.fixtures import objects_from_yaml
from handoff.policy.model import Example, Policy, PolicyContext
from handoff.report.model import Finding


@dataclass(frozen=True)
class ExampleResult:
    policy: str
    example: str
    verdict: str
    passed: bool
    problems: tuple[str, ...]
    findings: tuple[Finding, ...]


def run_example(policy: Policy, example: Example) -> ExampleResult:
    """Evaluate one example; lines and columns are counted within the example's ``yaml`` block."""
    objects = objects_from_yaml(example.yaml, f"{policy.id}:{example.name}")
    report = CelEngine([policy]).evaluate(objects, PolicyContext(params={policy.id: dict(example.params)}))
    findings = tuple(f for f in report.findings if f.rule == policy.id)
    problems: list[str] = []
    if example.verdict == "pass" and findings:
        problems.extend(f"unexpected finding at {f.line}:{f.column} {f.path}: {f.message}" for f in findings)
    if example.verdict == "fail":
        if not findings:
            problems.append("expected at least one finding, got none")
        got = sorted((f.line, f.column, f.path) for f in findings)
        if example.expect and got != sorted(example.expect):
            problems.append(f"expected findings at {sorted(example.expect)}, got {got}")
    return ExampleResult(policy=policy.id, example=example.name, verdict=example.verdict,
                         passed=not problems, problems=tuple(problems), findings=findings)


def run_examples(policies: Sequence[Policy]) -> list[ExampleResult]:
    return [run_example(p, e) for p in policies for e in p.examples]
