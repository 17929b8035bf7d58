"""Policy parameters: defaults in the policy file, overridden by config, environment and ``--param``.

An override key is ``<policy-id>.<param>`` (one policy), ``<param>`` (every policy that declares it),
or ``<policy-id>`` mapped to a mapping of params. Every policy has an ``enabled`` param (default true
unless the file says otherwise), so ``require-image-digest.enabled=true`` turns a policy on for prod,
and a ``severity`` param (``run-as-non-root.severity=error``) overrides the file's severity.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from handoff.errors import UsageError


def resolve_params(
    policy_id: str, defaults: Mapping[str, Any], overrides: Mapping[str, Any]
) -> dict[str, Any]:
    params: dict[str, Any] = {"enabled": True, **defaults}
    for key, value in overrides.items():
        if key == policy_id and isinstance(value, Mapping):
            params.update(value)
        elif key.startswith(policy_id + "."):
            params[key[len(policy_id) + 1 :]] = value
        elif "." not in key and key in defaults and not isinstance(value, Mapping):
            params[key] = value
    return params


def parse_param_flags(flags: Iterable[str]) -> dict[str, Any]:
    """``key=value`` flags; values are JSON when they parse (``true``, ``3``, ``["a","b"]``), else strings."""
    parsed: dict[str, Any] = {}
    for flag in flags:
        key, sep, raw = flag.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--param needs key=value, got {flag!r}")
        try:
            value: Any = json.loads(raw)
        except ValueError:
            value = raw
        parsed[key.strip()] = value
    return parsed


def merge_overrides(*layers: Mapping[str, Any]) -> dict[str, Any]:
    """Later layers win; a ``<policy-id>: {…}`` mapping is flattened to dotted keys first."""
    merged: dict[str, Any] = {}
    for layer in layers:
        for key, value in layer.items():
            if isinstance(value, Mapping) and "." not in key:
                for inner, inner_value in value.items():
                    merged[f"{key}.{inner}"] = inner_value
            else:
                merged[key] = value
    return merged
