"""Compact assertions for policy tests (in the spirit of yamllint's ``check(source, conf, problem)``)."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

from handoff.policy.cel_engine import CelEngine
from handoff.policy.fixtures import objects_from_yaml
from handoff.policy.model import PolicyContext
from handoff.policy.pack import builtin_dir, load_policy_file
from handoff.report.model import Finding


def run_policy(yaml: str, policy: str, params: Mapping[str, Any] | None = None) -> list[Finding]:
    loaded = load_policy_file(builtin_dir() / f"{policy}.yaml")
    objects = objects_from_yaml(textwrap.dedent(yaml), "manifest.yaml")
    context = PolicyContext(params={policy: dict(params or {})})
    return list(CelEngine([loaded]).evaluate(objects, context).findings)


def assert_violations(yaml: str, policy: str, expected: Sequence[tuple[int, int, str]],
                      params: Mapping[str, Any] | None = None) -> list[Finding]:
    """``expected`` lists ``(line, column, rule id)``; every finding must be one of them, all present."""
    findings = run_policy(yaml, policy, params)
    got = sorted((f.line, f.column, f.rule) for f in findings)
    assert got == sorted(expected), "\n".join(f"{f.line}:{f.column} {f.path} {f.message}" for f in findings)
    return findings
