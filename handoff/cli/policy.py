"""``handoff policy list|show|test``: inspect the built-in pack and policy directories, and run a
directory's own PASS/FAIL examples (like ``conftest verify`` / ``kyverno test``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from handoff.errors import EXIT_FAILED, EXIT_OK, UsageError
from handoff.policy.loader import PolicySet, load_policy_dir, load_policy_sets
from handoff.policy.model import Policy

F = TypeVar("F", bound=Callable[..., Any])

_DIRS = click.option("--policies", "policy_dirs", multiple=True,
                     type=click.Path(exists=True, path_type=Path),
                     help="Extra policy directory (handoff policies, admission policies, .rego); repeatable.")
_NO_BUILTIN = click.option("--no-builtin", is_flag=True, help="Leave out the built-in pack.")


def policy_options(command: F) -> F:
    """The policy flags ``handoff validate`` takes (kept here so the validate command stays small)."""
    command = click.option("--rego-namespace", "rego_namespaces", multiple=True, default=("main",),
                           show_default=True,
                           help="Rego package whose deny/violation/warn rules run; repeatable.")(command)
    command = click.option("--param", "policy_params", multiple=True, metavar="KEY=VALUE",
                           help="Policy parameter: <policy-id>.<param>=<value> (JSON values parse), "
                                "e.g. require-image-digest.enabled=true; repeatable.")(command)
    command = _NO_BUILTIN(command)
    return _DIRS(command)


@click.group("policy")  # registered in handoff.cli.COMMANDS as "policy"
def policy() -> None:
    """List, show and test policies."""


@policy.command("list")
@_DIRS
@_NO_BUILTIN
def list_cmd(policy_dirs: tuple[Path, ...], no_builtin: bool) -> int:
    """One line per policy: id, severity, engine, description."""
    loaded = load_policy_sets(policy_dirs, builtin=not no_builtin)
    rows = [(p.id, str(p.severity), "cel", p.description) for p in loaded.policies]
    rows += [(str((d.get("metadata") or {}).get("name", "")), "binding", "vap", str(d.get("kind")))
             for d, _ in loaded.admission]
    rows += [(path.name, "-", "rego", str(path)) for path in loaded.rego]
    width = max((len(r[0]) for r in rows), default=0)
    for row in rows:
        click.echo(f"{row[0]:<{width}}  {row[1]:<7}  {row[2]:<4}  {row[3]}")
    return EXIT_OK


@policy.command("show")
@click.argument("policy_id")
@_DIRS
@_NO_BUILTIN
@click.option("--output", type=click.Choice(["text", "json"]), default="text", show_default=True)
def show_cmd(policy_id: str, policy_dirs: tuple[Path, ...], no_builtin: bool, output: str) -> int:
    """Everything about one policy: match, params, validations, peer tool IDs, examples."""
    loaded = load_policy_sets(policy_dirs, builtin=not no_builtin)
    found = next((p for p in loaded.policies if p.id == policy_id), None)
    if found is None:
        known = ", ".join(p.id for p in loaded.policies)
        raise UsageError(f"no policy {policy_id!r} (known: {known})")
    click.echo(json.dumps(_as_dict(found), indent=2) if output == "json" else _as_text(found))
    return EXIT_OK


@policy.command("test")
@click.argument("directories", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
def test_cmd(directories: tuple[Path, ...]) -> int:
    """Run the PASS/FAIL examples in the policies of DIRECTORIES; exit 1 when one disagrees."""
    loaded = PolicySet()
    for directory in directories:
        loaded = loaded.merge(load_policy_dir(directory))
    from handoff.policy.testing import run_examples  # noqa: PLC0415 (the CEL engine: `policy test` only)

    results = run_examples(loaded.policies)
    for result in results:
        mark = "PASS" if result.passed else "FAIL"
        click.echo(f"{mark}  {result.policy}: {result.example} ({result.verdict})")
        for problem in result.problems:
            click.echo(f"      {problem}")
    failed = sum(1 for r in results if not r.passed)
    untested = [p.id for p in loaded.policies if not p.examples]
    click.echo(f"{len(results)} examples, {failed} failed" +
               (f"; no examples: {', '.join(untested)}" if untested else ""))
    return EXIT_FAILED if failed or not results else EXIT_OK


def _as_dict(p: Policy) -> dict[str, object]:
    return {
        "id": p.id, "severity": str(p.severity), "description": p.description, "source": p.source,
        "match": {"kinds": list(p.match.kinds), "namespaces": list(p.match.namespaces),
                  "excludeNamespaces": list(p.match.exclude_namespaces),
                  "labelSelector": dict(p.match.label_selector)},
        "foreach": p.foreach, "params": dict(p.params),
        "validations": [
            {"expression": v.expression, "message": v.message, "messageExpression": v.message_expression,
             "path": v.path, "fieldPath": v.field_path}
            for v in p.validations
        ],
        "equivalents": dict(p.equivalents), "rationale": p.doc,
        "examples": [{"name": e.name, "verdict": e.verdict} for e in p.examples],
    }


def _as_text(p: Policy) -> str:
    lines = [f"{p.id} ({p.severity})", f"  {p.description}", ""]
    if p.doc:
        lines += [f"  {p.doc}", ""]
    lines.append(f"  applies to: {', '.join(p.match.kinds) or 'every kind'}" +
                 (f", each of {p.foreach}" if p.foreach else ""))
    if p.params:
        lines.append("  params: " + ", ".join(f"{k}={json.dumps(v)}" for k, v in p.params.items()))
    peers = ", ".join(f"{tool} {ids}" for tool, ids in p.equivalents.items())
    lines.append(f"  same check elsewhere: {peers}")
    lines.append("  validations:")
    for v in p.validations:
        where = v.path or v.field_path
        lines.append(f"    - {' '.join(v.expression.split())}" + (f"  (at {where})" if where else ""))
    for example in p.examples:
        lines += ["", f"  {example.verdict.upper()}: {example.name}"]
        lines += [f"    {line}" for line in example.yaml.rstrip().splitlines()]
    return "\n".join(lines) + "\n"
