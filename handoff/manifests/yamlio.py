"""Bounded YAML loading: size, depth and alias-expansion limits, duplicate keys refused.

Files are composed into ruamel.yaml nodes (which keep line, column, character offsets and scalar
style); nothing here ever dumps YAML. Text is decoded as UTF-8 with a BOM kept as ``\\ufeff`` and line
endings untouched, so node offsets index the exact text that is later spliced.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, StreamMark, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from handoff.errors import YamlError

try:  # libyaml through PyYAML: the same nodes and marks as ruamel.yaml, 30-100x faster
    import yaml as _pyyaml

    _C_LOADER: Any = _pyyaml.CSafeLoader
except (ImportError, AttributeError):  # pragma: no cover - PyYAML built without libyaml
    _pyyaml = None  # type: ignore[assignment]
    _C_LOADER = None
# libyaml composes recursively in C: only hand it texts whose nesting is certainly shallow.
_C_MAX_NESTING = 500

DEFAULT_MAX_BYTES = 5 * 1024 * 1024
DEFAULT_MAX_DEPTH = 100
DEFAULT_MAX_NODES = 1_000_000

STR = "tag:yaml.org,2002:str"
NULL = "tag:yaml.org,2002:null"
_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"


@dataclass(frozen=True)
class Limits:
    """Bounds applied to every YAML file handoff reads. ``HANDOFF_MAX_FILE_BYTES`` overrides the size."""

    max_bytes: int = DEFAULT_MAX_BYTES
    max_depth: int = DEFAULT_MAX_DEPTH
    max_nodes: int = DEFAULT_MAX_NODES

    @classmethod
    def from_env(cls) -> Limits:
        raw = os.environ.get("HANDOFF_MAX_FILE_BYTES", "")
        return cls(max_bytes=int(raw)) if raw.isdigit() else cls()


def read_text(path: Path, *, display: str, limits: Limits) -> str:
    """Read ``path`` as UTF-8 text (BOM and CRLF preserved), refusing files over ``limits.max_bytes``."""
    try:
        size = path.stat().st_size
        if size > limits.max_bytes:
            raise YamlError(f"file is {size} bytes, over the {limits.max_bytes}-byte limit", file=display)
        data = path.read_bytes()
    except FileNotFoundError as e:
        raise YamlError("file not found", file=display) from e
    except IsADirectoryError as e:
        raise YamlError("is a directory, not a file", file=display) from e
    except OSError as e:
        raise YamlError(f"cannot read file: {e.strerror}", file=display) from e
    if len(data) > limits.max_bytes:
        raise YamlError(f"file is over the {limits.max_bytes}-byte limit", file=display)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise YamlError("UTF-16 files are not supported; convert to UTF-8", file=display)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise YamlError("file is not valid UTF-8", file=display, line=line) from e


def compose_all(text: str, *, display: str, limits: Limits, fast: bool = True) -> list[Node | None]:
    """Compose every document of ``text`` into ruamel.yaml nodes, checked against ``limits``.

    With ``fast`` (and PyYAML's libyaml binding installed) libyaml scans the text and its nodes are
    converted to ruamel.yaml nodes with identical marks; otherwise ruamel.yaml's own parser runs.
    """
    documents = _compose_libyaml(text, display) if fast else None
    if documents is None:
        documents = _compose_ruamel(text, display, limits)
    budget = _Budget(limits.max_nodes)
    for document in documents:
        if document is not None:
            _check(document, display=display, limits=limits, depth=0, budget=budget, sizes={})
    return documents


def _compose_ruamel(text: str, display: str, limits: Limits) -> list[Node | None]:
    # The safe pure-Python parser gives the same nodes, marks and styles as round-trip mode without
    # gathering comments (we never dump), at about half the cost.
    yaml = YAML(typ="safe", pure=True)
    try:
        return list(yaml.compose_all(text))
    except MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = " ".join(str(e.problem or e.context or "invalid YAML").split())
        raise YamlError(f"invalid YAML: {problem}", file=display, line=line) from e
    except YAMLError as e:
        raise YamlError(f"invalid YAML: {' '.join(str(e).split())}", file=display) from e
    except RecursionError as e:
        raise YamlError(f"nesting deeper than {limits.max_depth} levels", file=display) from e


_DEEP_INDENT = re.compile(rf"^ {{{_C_MAX_NESTING + 1}}}", re.MULTILINE)


def _shallow(text: str) -> bool:
    if text.count("[") + text.count("{") > _C_MAX_NESTING:
        return False
    return _DEEP_INDENT.search(text) is None


def _compose_libyaml(text: str, display: str) -> list[Node | None] | None:
    if _C_LOADER is None or not _shallow(text):
        return None
    try:
        raw = list(_pyyaml.compose_all(text, Loader=_C_LOADER))
    except _pyyaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = " ".join(str(e.problem or e.context or "invalid YAML").split())
        raise YamlError(f"invalid YAML: {problem}", file=display, line=line) from e
    except _pyyaml.YAMLError as e:
        raise YamlError(f"invalid YAML: {' '.join(str(e).split())}", file=display) from e
    offset = 1 if text.startswith("\ufeff") else 0  # libyaml does not count the BOM
    memo: dict[int, Node] = {}
    return [_from_libyaml(node, memo, offset) for node in raw]


def _mark(mark: Any, offset: int) -> StreamMark:
    return StreamMark(None, mark.index + offset, mark.line, mark.column)


def _from_libyaml(node: Any, memo: dict[int, Node], offset: int) -> Node:
    """A ruamel.yaml node for a PyYAML node; shared (aliased) nodes stay shared."""
    known = memo.get(id(node))
    if known is not None:
        return known
    start, end = _mark(node.start_mark, offset), _mark(node.end_mark, offset)
    converted: Node
    if isinstance(node, _pyyaml.ScalarNode):
        converted = ScalarNode(node.tag, node.value, start, end, style=node.style or None)
    elif isinstance(node, _pyyaml.SequenceNode):
        converted = SequenceNode(node.tag, [], start, end, flow_style=node.flow_style)
        memo[id(node)] = converted
        converted.value = [_from_libyaml(item, memo, offset) for item in node.value]
    else:
        converted = MappingNode(node.tag, [], start, end, flow_style=node.flow_style)
        memo[id(node)] = converted
        converted.value = [(_from_libyaml(k, memo, offset), _from_libyaml(v, memo, offset))
                           for k, v in node.value]
    memo[id(node)] = converted
    return converted


class _Budget:
    def __init__(self, max_nodes: int) -> None:
        self.remaining = max_nodes


def _check(node: Node, *, display: str, limits: Limits, depth: int, budget: _Budget,
           sizes: dict[int, int]) -> int:
    """Check depth and duplicate keys; return the node's size with aliases expanded (memoised)."""
    known = sizes.get(id(node))
    if known is not None:
        budget.remaining -= known
        if budget.remaining < 0:
            raise YamlError(
                f"aliases expand to more than {limits.max_nodes} nodes (alias bomb?)",
                file=display, line=node.start_mark.line + 1,
            )
        return known
    if depth > limits.max_depth:
        raise YamlError(f"nesting deeper than {limits.max_depth} levels", file=display,
                        line=node.start_mark.line + 1)
    before = budget.remaining
    budget.remaining -= 1
    if isinstance(node, MappingNode):
        seen: dict[str, int] = {}
        for key, value in node.value:
            if isinstance(key, ScalarNode) and key.value != "<<":
                if key.value in seen:
                    raise YamlError(
                        f"duplicate key {key.value!r} (first on line {seen[key.value]})",
                        file=display, line=key.start_mark.line + 1,
                    )
                seen[key.value] = key.start_mark.line + 1
            _check(key, display=display, limits=limits, depth=depth + 1, budget=budget, sizes=sizes)
            _check(value, display=display, limits=limits, depth=depth + 1, budget=budget, sizes=sizes)
    elif isinstance(node, SequenceNode):
        for item in node.value:
            _check(item, display=display, limits=limits, depth=depth + 1, budget=budget, sizes=sizes)
    if budget.remaining < 0:
        raise YamlError(
            f"aliases expand to more than {limits.max_nodes} nodes (alias bomb?)",
            file=display, line=node.start_mark.line + 1,
        )
    size = before - budget.remaining
    sizes[id(node)] = size
    return size


def walk(node: Node) -> Iterator[Node]:
    """Every node reachable from ``node`` once (aliases are not re-entered)."""
    seen: set[int] = set()
    stack = [node]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        if isinstance(current, MappingNode):
            for key, value in reversed(current.value):
                stack.append(value)
                stack.append(key)
        elif isinstance(current, SequenceNode):
            stack.extend(reversed(current.value))


def tag_of(node: Node) -> str:
    """The node's resolved tag URI (``str(node.tag)`` re-decodes the URI on every call: slow)."""
    ctag = node.ctag
    if ctag is not None and ctag.handle is None and isinstance(ctag.suffix, str):
        return ctag.suffix
    return str(node.tag)


def scalar_data(node: ScalarNode) -> Any:
    """The plain Python value of a scalar (YAML 1.2 core schema; timestamps stay strings)."""
    tag = tag_of(node)
    value: str = node.value
    if node.style is not None or tag == STR:
        return value
    if tag == NULL:
        return None
    if tag == _BOOL:
        return value.lower() in {"true", "yes", "on", "y"}
    if tag == _INT:
        try:
            return int(value.replace("_", ""), 0)
        except ValueError:
            return value
    if tag == _FLOAT:
        try:
            return float(value.replace("_", ""))
        except ValueError:
            return value
    return value


def to_data(node: Node | None) -> Any:
    """Plain Python data for ``node`` (dicts, lists, scalars); call only on bounded (checked) trees."""
    if node is None:
        return None
    if isinstance(node, ScalarNode):
        return scalar_data(node)
    if isinstance(node, SequenceNode):
        return [to_data(item) for item in node.value]
    if isinstance(node, MappingNode):
        result: dict[Any, Any] = {}
        for key, value in node.value:
            k = to_data(key)
            result[k if isinstance(k, str | int | float | bool) or k is None else str(k)] = to_data(value)
        return result
    return None


def load_file(path: Path, *, display: str, limits: Limits | None = None) -> tuple[str, list[Node | None]]:
    """Read and compose ``path``: its text and its documents."""
    limits = limits or Limits.from_env()
    text = read_text(path, display=display, limits=limits)
    return text, compose_all(text, display=display, limits=limits)
