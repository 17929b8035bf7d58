"""Check YAML data against a JSON Schema shipped in ``handoff/schemas``; the first error reads
``file:LINE: at apps.web.targets[0].path: message`` (the line of the offending key).

Used by ``.handoff.yaml`` (``handoff.config``) and the reconciler's config file.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from importlib import resources
from typing import TYPE_CHECKING, Any

from handoff.errors import ConfigError

if TYPE_CHECKING:
    from handoff.manifests.yamlio import Node


@functools.cache
def shipped_schema(name: str) -> dict[str, Any]:
    text = resources.files("handoff").joinpath(f"schemas/{name}").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def node_lines(node: Node, prefix: str = "", out: dict[str, int] | None = None,
               seen: set[int] | None = None) -> dict[str, int]:
    """Map dotted paths (``apps.web.targets[0].path``) to 1-based lines. An aliased node is entered once:
    paths under its repeats are not listed (``line_for`` gives them the line of the repeated node), so the
    map stays linear in the text, not in the aliases' expansion."""
    # ruamel.yaml's node types only once a node is read: importing this module (config.py does for
    # every command) must not load ruamel.yaml for a repo without a config file
    from handoff.manifests.yamlio import MappingNode, ScalarNode, SequenceNode  # noqa: PLC0415 (ruamel: only with a config)

    out = {} if out is None else out
    seen = set() if seen is None else seen
    out.setdefault(prefix, node.start_mark.line + 1)
    if not isinstance(node, MappingNode | SequenceNode) or id(node) in seen:
        return out
    seen.add(id(node))
    if isinstance(node, MappingNode):
        for key, value in node.value:
            name = str(key.value) if isinstance(key, ScalarNode) else "?"
            path = f"{prefix}.{name}" if prefix else name
            out[path] = key.start_mark.line + 1
            node_lines(value, path, out, seen)
    else:
        for index, item in enumerate(node.value):
            path = f"{prefix}[{index}]"
            out[path] = item.start_mark.line + 1
            node_lines(item, path, out, seen)
    return out


def line_for(lines: Mapping[str, int], key: str) -> int | None:
    """The line of ``key`` or of its longest known prefix."""
    while key:
        if key in lines:
            return lines[key]
        cut = max(key.rfind("."), key.rfind("["))
        key = key[:cut] if cut > 0 else ""
    return lines.get("")


def dotted(parts: Any) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


@functools.cache
def _fast_validator(name: str) -> Any:
    import jsonschema_rs  # noqa: PLC0415 (a marker-only bump never loads a config, nor this)
    return jsonschema_rs.Draft202012Validator(shipped_schema(name))


def check(data: Any, lines: Mapping[str, int], *, schema: str, file: str,
          unknown_at_key: bool = False) -> None:
    """Raise ConfigError for the best-matching error of ``data`` against shipped ``schema``.

    ``unknown_at_key``: an unknown key is reported at its own path and line (``at sources[0].brnach:
    unknown key 'brnach'``) rather than at the mapping that holds it."""
    if _fast_validator(schema).is_valid(data):
        return
    # Only a failing file pays for importing python-jsonschema, whose errors read best (best_match).
    import jsonschema  # noqa: PLC0415 (heavy: only a failing file pays for it)

    validator = jsonschema.Draft202012Validator(shipped_schema(schema))
    errors = sorted(validator.iter_errors(data), key=lambda e: (list(map(str, e.absolute_path)), e.message))
    if not errors:
        return
    error = jsonschema.exceptions.best_match(errors)
    if error is None:  # pragma: no cover - best_match returns one when errors exist
        error = errors[0]
    key = dotted(error.absolute_path)
    message = error.message
    if error.validator == "additionalProperties" and isinstance(error.instance, Mapping):
        allowed = sorted(error.schema.get("properties", {}))
        unknown = [k for k in error.instance if k not in allowed]
        if unknown_at_key and unknown:
            key = f"{key}.{unknown[0]}" if key else str(unknown[0])
            message = f"unknown key {unknown[0]!r} (known: {', '.join(allowed)})"
        else:
            message += f" (allowed: {', '.join(allowed)})" if allowed else ""
    raise ConfigError(message, file=file, line=line_for(lines, key), key=key or None)
