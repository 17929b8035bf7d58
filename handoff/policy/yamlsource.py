"""Read a YAML file with ruamel.yaml, keeping line numbers for error messages."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from handoff.errors import ConfigError, YamlError
from handoff.manifests import yamlio


def load_documents(path: Path, display: str) -> Iterator[Any]:
    """Every non-empty document of ``path`` as ruamel nodes (``line_of`` works on them)."""
    limits = yamlio.Limits.from_env()
    if not path.is_file():
        raise ConfigError("cannot read policy file: not a file", file=display)
    # bounded first: an alias bomb in a config repo's policy dir must not hang the walk over the data
    text = yamlio.read_text(path, display=display, limits=limits)
    yamlio.compose_all(text, display=display, limits=limits)
    yaml = YAML(typ="rt")
    try:
        documents = list(yaml.load_all(text))
    except YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise YamlError(f"invalid YAML: {getattr(e, 'problem', None) or e}", file=display, line=line) from e
    yield from (d for d in documents if d is not None)


def line_of(node: Any, key: str | int | None = None) -> int | None:
    """1-based line of ``node`` (or of ``node[key]``) when ruamel recorded it."""
    if isinstance(node, CommentedMap | CommentedSeq):
        try:
            if key is None:
                return int(node.lc.line) + 1
            if isinstance(node, CommentedMap):
                return int(node.lc.key(key)[0]) + 1
            return int(node.lc.item(key)[0]) + 1
        except (KeyError, IndexError, TypeError, AttributeError):
            return int(node.lc.line) + 1
    return None


def plain(node: Any) -> Any:
    """ruamel nodes as plain JSON-compatible data."""
    if isinstance(node, dict):
        return {str(k): plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain(v) for v in node]
    if isinstance(node, str):
        return str(node)
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    return node
