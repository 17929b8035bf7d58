"""Sort a policy directory's files into engines: handoff policy files (CEL), admission policies and
bindings (plus their param objects), and conftest ``.rego`` modules."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from handoff.errors import ConfigError
from handoff.policy.model import Policy

_YAML_SUFFIXES = (".yaml", ".yml", ".json")


@dataclass(frozen=True)
class PolicySet:
    policies: tuple[Policy, ...] = ()
    admission: tuple[tuple[Mapping[str, Any], str], ...] = ()
    params: tuple[tuple[Mapping[str, Any], str], ...] = ()
    rego: tuple[Path, ...] = field(default=())

    def merge(self, other: PolicySet) -> PolicySet:
        ids = {p.id for p in other.policies}
        return PolicySet(
            policies=tuple(p for p in self.policies if p.id not in ids) + other.policies,
            admission=self.admission + other.admission,
            params=self.params + other.params,
            rego=self.rego + other.rego,
        )


def load_policy_dir(directory: Path, display: str | None = None) -> PolicySet:
    """Every policy under ``directory`` (recursively, sorted); a single file works too."""
    # the policy file readers (ruamel.yaml nodes, the CEL bindings) only once a directory is read: a
    # run without policies (validate --no-builtin) never loads them
    from handoff.policy.pack import is_policy_document, parse_policy  # noqa: PLC0415 (CEL: once a policy is read)
    from handoff.policy.vap import is_vap_document  # noqa: PLC0415 (CEL: once a policy is read)
    from handoff.policy.yamlsource import load_documents, plain  # noqa: PLC0415 (ruamel: once a policy is read)

    if not directory.exists():
        raise ConfigError("policy directory does not exist", file=display or str(directory))
    files = [directory] if directory.is_file() else sorted(p for p in directory.rglob("*") if p.is_file())
    policies: list[Policy] = []
    admission: list[tuple[Mapping[str, Any], str]] = []
    params: list[tuple[Mapping[str, Any], str]] = []
    rego: list[Path] = []
    for path in files:
        shown = str(path)
        if display is not None:
            shown = display if path == directory else str(Path(display) / path.relative_to(directory))
        if path.suffix == ".rego":
            if not path.name.endswith("_test.rego"):
                rego.append(path)
            continue
        if path.suffix not in _YAML_SUFFIXES:
            continue
        for doc in load_documents(path, shown):
            if is_policy_document(doc):
                policies.append(parse_policy(doc, shown, expected_id=path.stem))
            elif is_vap_document(doc):
                admission.append((plain(doc), shown))
            elif isinstance(doc, Mapping) and "apiVersion" in doc and "kind" in doc:
                params.append((plain(doc), shown))
    return PolicySet(tuple(policies), tuple(admission), tuple(params), tuple(rego))


def load_policy_sets(dirs: Sequence[Path], *, builtin: bool = True) -> PolicySet:
    result = PolicySet()
    if builtin:
        from handoff.policy.pack import builtin_dir  # noqa: PLC0415 (see load_policy_dir)

        result = load_policy_dir(builtin_dir(), "policies")
    for directory in dirs:
        result = result.merge(load_policy_dir(directory))
    return result
