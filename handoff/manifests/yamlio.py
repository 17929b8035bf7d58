"""Bounded YAML loading into nodes: size, depth and alias-expansion limits, duplicate keys refused.

Files are composed into ruamel.yaml nodes (which keep line, column, character offsets and scalar
style); nothing here ever dumps YAML. Text is decoded as UTF-8 with a BOM kept as ``\\ufeff`` and line
endings untouched, so node offsets index the exact text that is later spliced. Plain scalars get the
tag Kubernetes (go-yaml v2, see ``scalars``) gives them on both parsers, so a node's tag and value do
not depend on which parser composed it. This module is the YAML API of the edit side and of config
files: node types, composing, walking, values and the "does this stay a string" resolver.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, StreamMark, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.resolver import VersionedResolver
from ruamel.yaml.tag import Tag

from handoff.errors import YamlError
from handoff.manifests import scalars
from handoff.manifests.bounds import (
    DEFAULT_MAX_BYTES,
    ExpansionBudget,
    LimitExceeded,
    Limits,
    read_capped,
    too_deep,
)
from handoff.manifests.cache import ComposeCache

try:  # libyaml through PyYAML: the same nodes and marks as ruamel.yaml, 30-100x faster
    import yaml as _pyyaml

    class _GoTagsLoader(_pyyaml.CSafeLoader):
        def resolve(self, kind: type, value: Any, implicit: tuple[bool, bool]) -> str:
            if kind is _pyyaml.ScalarNode and implicit[0]:
                return scalars.plain_tag(value)
            resolved: str = super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]
            return resolved

    _C_LOADER: Any = _GoTagsLoader
except (ImportError, AttributeError):  # pragma: no cover - PyYAML built without libyaml
    _pyyaml = None  # type: ignore[assignment]
    _C_LOADER = None
# libyaml composes recursively in C: only hand it texts whose nesting is certainly shallow.
_C_MAX_NESTING = 500

STR = scalars.STR
NULL = scalars.NULL


class _GoTagsResolver(VersionedResolver):
    """ruamel.yaml's resolver with go-yaml v2's tags for plain scalars (``yes``: bool, ``0o17``: int)."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is ScalarNode and implicit[0]:
            return Tag(suffix=scalars.plain_tag(value))
        return super().resolve(kind, value, implicit)


_YAML_RESOLVERS = (VersionedResolver(version=(1, 1)), VersionedResolver(version=(1, 2)))


def stays_a_string(value: str) -> bool:
    """True when ``value`` written plain reads back as a string under YAML 1.1 (Helm), 1.2 and
    go-yaml v2 (Kubernetes, and this module's own reading)."""
    return scalars.plain_tag(value) == STR and all(
        str(r.resolve(ScalarNode, value, (True, False))) == STR for r in _YAML_RESOLVERS)


def read_text(path: Path, *, display: str, limits: Limits) -> str:
    """Read ``path`` as UTF-8 text (BOM and CRLF preserved), refusing files over ``limits.max_bytes``."""
    try:
        data = read_capped(path, limits)
    except FileNotFoundError as e:
        raise YamlError("file not found", file=display) from e
    except IsADirectoryError as e:
        raise YamlError("is a directory, not a file", file=display) from e
    except OSError as e:
        raise YamlError(f"cannot read file: {e.strerror}", file=display) from e
    if data is None:
        size = _size(path)
        raise YamlError(f"file is {size} bytes, over the {limits.max_bytes}-byte limit" if size is not None
                        else f"file is over the {limits.max_bytes}-byte limit", file=display)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise YamlError("UTF-16 files are not supported; convert to UTF-8", file=display)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise YamlError("file is not valid UTF-8", file=display, line=line) from e


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None


def compose_all(text: str, *, display: str, limits: Limits, fast: bool = True) -> list[Node | None]:
    """Compose every document of ``text`` into ruamel.yaml nodes, checked against ``limits``.

    With ``fast`` (and PyYAML's libyaml binding installed) libyaml scans the text and its nodes are
    converted to ruamel.yaml nodes with identical marks; otherwise ruamel.yaml's own parser runs.
    """
    documents = _compose_libyaml(text, display) if fast else None
    if documents is None:
        documents = _compose_ruamel(text, display, limits)
    budget = ExpansionBudget(limits)
    try:
        for document in documents:
            if document is not None:
                _check(document, limits=limits, depth=0, budget=budget, sizes={})
    except LimitExceeded as e:
        raise YamlError(str(e), file=display, line=e.line) from e
    except _Duplicate as e:
        raise YamlError(str(e), file=display, line=e.line) from e
    return documents


def _compose_ruamel(text: str, display: str, limits: Limits) -> list[Node | None]:
    # The safe pure-Python parser gives the same nodes, marks and styles as round-trip mode without
    # gathering comments (we never dump), at about half the cost.
    yaml = YAML(typ="safe", pure=True)
    yaml.Resolver = _GoTagsResolver
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


class _Duplicate(Exception):
    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


def _check(node: Node, *, limits: Limits, depth: int, budget: ExpansionBudget, sizes: dict[int, int]) -> int:
    """Check depth and duplicate keys; return the node's size with aliases expanded (memoised)."""
    known = sizes.get(id(node))
    if known is not None:
        budget.alias(known, node.start_mark.line + 1)
        return known
    if depth > limits.max_depth:
        raise too_deep(limits, node.start_mark.line + 1)
    before = budget.built
    budget.built += 1
    if isinstance(node, MappingNode):
        seen: dict[str, int] = {}
        for key, value in node.value:
            if isinstance(key, ScalarNode) and key.value != "<<":
                if key.value in seen:
                    raise _Duplicate(f"duplicate key {key.value!r} (first on line {seen[key.value]})",
                                     key.start_mark.line + 1)
                seen[key.value] = key.start_mark.line + 1
            _check(key, limits=limits, depth=depth + 1, budget=budget, sizes=sizes)
            _check(value, limits=limits, depth=depth + 1, budget=budget, sizes=sizes)
    elif isinstance(node, SequenceNode):
        for item in node.value:
            _check(item, limits=limits, depth=depth + 1, budget=budget, sizes=sizes)
    size = budget.built - before
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
    """The plain Python value of a scalar, as Kubernetes reads it (see ``scalars``)."""
    return scalars.tagged_scalar(tag_of(node), node.value)


def to_data(node: Node | None, memo: dict[int, Any] | None = None) -> Any:
    """Plain Python data for ``node`` (dicts, lists, scalars); call only on bounded (checked) trees.
    Keys that are not strings become the JSON keys sigs.k8s.io/yaml gives them (``1:`` is ``"1"``).
    An aliased node becomes one shared object (``memo``), so memory stays linear in the text: treat the
    result as read-only."""
    if node is None:
        return None
    if isinstance(node, ScalarNode):
        return scalar_data(node)
    memo = {} if memo is None else memo
    known = memo.get(id(node), _UNSEEN)
    if known is not _UNSEEN:
        return known
    result: Any = None
    if isinstance(node, SequenceNode):
        result = [to_data(item, memo) for item in node.value]
    elif isinstance(node, MappingNode):
        result = {}
        for key, value in node.value:
            k = to_data(key, memo)
            result[k if isinstance(k, str) else scalars.json_key(k)] = to_data(value, memo)
    memo[id(node)] = result
    return result


_UNSEEN = object()


class LocatedMap(dict[str, Any]):
    """A mapping that remembers its own 1-based line and each key's (for error messages)."""

    line: int
    key_lines: dict[str, int]


class LocatedList(list[Any]):
    """A list that remembers its own 1-based line and each item's."""

    line: int
    item_lines: list[int]


def to_located(node: Node | None, memo: dict[int, Any] | None = None) -> Any:
    """``to_data`` whose mappings and lists are ``LocatedMap``/``LocatedList`` (one parse, lines kept),
    merge keys expanded: data for settings files (policies, the reconciler config). Aliased nodes stay
    shared, as in ``to_data``."""
    if node is None:
        return None
    if isinstance(node, ScalarNode):
        return scalar_data(node)
    memo = {} if memo is None else memo
    known = memo.get(id(node), _UNSEEN)
    if known is not _UNSEEN:
        return known
    if isinstance(node, SequenceNode):
        items = LocatedList(to_located(item, memo) for item in node.value)
        items.line = node.start_mark.line + 1
        items.item_lines = [item.start_mark.line + 1 for item in node.value]
        memo[id(node)] = items
        return items
    if not isinstance(node, MappingNode):
        return None
    mapping = LocatedMap()
    mapping.line = node.start_mark.line + 1
    mapping.key_lines = {}
    for key, value in _merged_pairs(node):
        k = to_data(key)
        name = k if isinstance(k, str) else scalars.json_key(k)
        mapping[name] = to_located(value, memo)
        mapping.key_lines[name] = key.start_mark.line + 1
    memo[id(node)] = mapping
    return mapping


def _merged_pairs(node: MappingNode) -> list[tuple[Node, Node]]:
    """The mapping's pairs with ``<<`` merge keys expanded as go-yaml (and PyYAML) do: merged pairs
    first, earlier sources and the mapping's own keys winning (later assignments override)."""
    merged: list[tuple[Node, Node]] = []
    own: list[tuple[Node, Node]] = []
    for key, value in node.value:
        if isinstance(key, ScalarNode) and tag_of(key) == scalars.MERGE and key.style is None:
            sources = value.value if isinstance(value, SequenceNode) else [value]
            for source in reversed(sources):
                if isinstance(source, MappingNode):
                    merged.extend(_merged_pairs(source))
        else:
            own.append((key, value))
    return merged + own if merged else own


def line_of(data: Any, key: str | int | None = None) -> int | None:
    """1-based line of located ``data`` (or of its ``key``/index), else None."""
    if isinstance(data, LocatedMap):
        return data.key_lines.get(key, data.line) if isinstance(key, str) else data.line
    if isinstance(data, LocatedList):
        if isinstance(key, int) and 0 <= key < len(data.item_lines):
            return data.item_lines[key]
        return data.line
    return None


_composed = ComposeCache()


def load_file(path: Path, *, display: str, limits: Limits | None = None) -> tuple[str, list[Node | None]]:
    """Read and compose ``path``: its text and its documents."""
    limits = limits or Limits.from_env()
    text = read_text(path, display=display, limits=limits)
    key = _composed.key(path, text, (display, limits))
    documents = _composed.get(key)
    if documents is None:
        documents = compose_all(text, display=display, limits=limits)
        _composed.put(key, documents)
    return text, list(documents)


__all__ = [
    "DEFAULT_MAX_BYTES", "NULL", "STR", "Limits", "LocatedList", "LocatedMap", "MappingNode", "Node",
    "ScalarNode", "SequenceNode", "compose_all", "line_of", "load_file", "read_text", "scalar_data",
    "stays_a_string", "tag_of", "to_data", "to_located", "walk",
]
