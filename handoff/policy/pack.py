"""Load declarative policy files (``policies/<id>.yaml``) into ``Policy`` values.

A file's ``id`` must equal its name; every CEL expression is compiled at load time so a typo is a
``ConfigError`` naming file, line and key instead of a failure per object later.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from handoff.errors import ConfigError
from handoff.policy.celmod import cel
from handoff.policy.model import Example, Match, Policy, Validation
from handoff.policy.yamlsource import line_of, load_documents, plain
from handoff.report.model import Severity
from handoff.report.rules import RuleDoc, help_uri

_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_TOP_KEYS = {"id", "severity", "description", "match", "foreach", "params", "validations", "doc",
             "podSecurity"}
POD_SECURITY_LEVELS = ("baseline", "restricted")
_VALIDATION_KEYS = {"expression", "message", "messageExpression", "path", "fieldPath", "reason"}
_MATCH_KEYS = {"kinds", "namespaces", "excludeNamespaces", "labelSelector"}


def builtin_dir() -> Path:
    """The shipped pack: ``handoff/policy/builtin_pack`` links to ``policies/`` in a checkout and holds
    copies of its files in an installed wheel."""
    return Path(__file__).resolve().parent / "builtin_pack"


def rule_docs(policies: Iterable[Policy]) -> dict[str, RuleDoc]:
    """Each policy's description (short) and rationale (full); shipped ones link to docs/policies.md."""
    docs = {}
    for p in policies:
        short = p.description or p.id
        full = f"{short}\n\n{p.doc}" if p.doc else short
        shipped = p.source == f"policies/{p.id}.yaml" and (builtin_dir() / f"{p.id}.yaml").is_file()
        docs[p.id] = RuleDoc(p.id, short, full, help_uri(p.id) if shipped else "")
    return docs


def is_policy_document(doc: Any) -> bool:
    return isinstance(doc, Mapping) and "validations" in doc and "id" in doc and "kind" not in doc


def load_policy_file(path: Path, display: str | None = None) -> Policy:
    shown = display or str(path)
    documents = list(load_documents(path, shown))
    if len(documents) != 1 or not is_policy_document(documents[0]):
        raise ConfigError("a policy file holds exactly one mapping with `id` and `validations`", file=shown)
    return parse_policy(documents[0], shown, expected_id=path.stem)


def parse_policy(node: Any, file: str, expected_id: str | None = None) -> Policy:
    def fail(message: str, key: str, where: Any = node, at: str | int | None = None) -> ConfigError:
        return ConfigError(message, file=file, line=line_of(where, at), key=key)

    unknown = sorted(set(node) - _TOP_KEYS)
    if unknown:
        known = ", ".join(sorted(_TOP_KEYS))
        raise fail(f"unknown key {unknown[0]!r} (known: {known})", unknown[0], at=unknown[0])
    policy_id = str(node.get("id", ""))
    if not _ID.match(policy_id):
        raise fail(f"policy id {policy_id!r} must be kebab-case", "id", at="id")
    if expected_id is not None and policy_id != expected_id:
        raise fail(f"policy id {policy_id!r} must equal the file name {expected_id!r}", "id", at="id")
    try:
        severity = Severity.parse(str(node.get("severity", "error")))
    except Exception as e:
        raise fail(str(getattr(e, "message", e)), "severity", at="severity") from None
    validations_node = node.get("validations")
    if not isinstance(validations_node, list) or not validations_node:
        raise fail("`validations` must be a non-empty list", "validations", at="validations")
    validations = tuple(
        _parse_validation(v, file, f"validations[{i}]", validations_node, i)
        for i, v in enumerate(validations_node)
    )
    match = _parse_match(node.get("match") or {}, file)
    params = plain(node.get("params") or {})
    if not isinstance(params, dict):
        raise fail("`params` must be a mapping", "params", at="params")
    pod_security = str(node.get("podSecurity", "") or "")
    if pod_security and pod_security not in POD_SECURITY_LEVELS:
        levels = ", ".join(POD_SECURITY_LEVELS)
        raise fail(f"podSecurity {pod_security!r} is not one of {levels}", "podSecurity", at="podSecurity")
    doc = node.get("doc") or {}
    return Policy(
        id=policy_id,
        severity=severity,
        description=str(node.get("description", "")).strip(),
        validations=validations,
        match=match,
        foreach=str(node.get("foreach", "") or ""),
        params=params,
        equivalents={str(k): str(v) for k, v in (doc.get("equivalents") or {}).items()},
        examples=_parse_examples(doc.get("examples") or [], file),
        doc=str(doc.get("rationale", "")).strip(),
        source=file,
        pod_security=pod_security,
    )


def _parse_validation(node: Any, file: str, key: str, parent: Any, index: int) -> Validation:
    if not isinstance(node, Mapping):
        raise ConfigError("a validation must be a mapping", file=file, line=line_of(parent, index), key=key)
    unknown = sorted(set(node) - _VALIDATION_KEYS)
    if unknown:
        raise ConfigError(f"unknown key {unknown[0]!r}", file=file, line=line_of(node, unknown[0]),
                          key=f"{key}.{unknown[0]}")
    for field_name in ("expression", "messageExpression"):
        text = node.get(field_name)
        if text is None:
            continue
        try:
            cel.compile(str(text))
        except Exception as e:
            first = str(e).splitlines()[0] if str(e) else type(e).__name__
            raise ConfigError(f"invalid CEL: {first}", file=file, line=line_of(node, field_name),
                              key=f"{key}.{field_name}") from None
    if not node.get("expression"):
        raise ConfigError("`expression` is required", file=file, line=line_of(node), key=key)
    return Validation(
        expression=str(node["expression"]),
        message=str(node.get("message", "") or ""),
        message_expression=str(node.get("messageExpression", "") or ""),
        path=str(node.get("path", "") or ""),
        field_path=str(node.get("fieldPath", "") or "").lstrip("."),
        reason=str(node.get("reason", "") or ""),
    )


def _parse_match(node: Any, file: str) -> Match:
    if not isinstance(node, Mapping):
        raise ConfigError("`match` must be a mapping", file=file, line=line_of(node), key="match")
    unknown = sorted(set(node) - _MATCH_KEYS)
    if unknown:
        raise ConfigError(f"unknown key {unknown[0]!r}", file=file, line=line_of(node, unknown[0]),
                          key=f"match.{unknown[0]}")
    return Match(
        kinds=tuple(str(k) for k in node.get("kinds") or ()),
        namespaces=tuple(str(n) for n in node.get("namespaces") or ()),
        exclude_namespaces=tuple(str(n) for n in node.get("excludeNamespaces") or ()),
        label_selector=plain(node.get("labelSelector") or {}),
    )


def _parse_examples(node: Any, file: str) -> tuple[Example, ...]:
    examples = []
    for i, item in enumerate(node):
        verdict = str(item.get("verdict", "")).lower()
        if verdict not in ("pass", "fail") or not isinstance(item.get("yaml"), str):
            raise ConfigError("an example needs `verdict: pass|fail` and a `yaml` block", file=file,
                              line=line_of(node, i), key=f"doc.examples[{i}]")
        expect = tuple(
            (int(e["line"]), int(e.get("column", 1)), str(e.get("path", "")))
            for e in item.get("expect") or ()
        )
        examples.append(Example(
            name=str(item.get("name", f"example {i}")), verdict=verdict, yaml=str(item["yaml"]),
            params=plain(item.get("params") or {}), expect=expect,
        ))
    return tuple(examples)
