"""Fast multi-document YAML loading with source lines, duplicate-key detection and lazy positions.

Data is built with PyYAML's C parser (YAML 1.1, as the Kubernetes tooling reads it). Positions for
every JSON path are computed only when a finding asks for one, by composing the file again: the fast
path of a clean validation never pays for them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from handoff.report.model import Finding, Severity

Positions = dict[str, tuple[int, int]]


@dataclass(frozen=True)
class YamlDoc:
    """One non-empty document: its data, 1-based first line and index among the file's documents."""

    data: Any
    line: int
    index: int


@dataclass(frozen=True)
class LoadedFile:
    docs: tuple[YamlDoc, ...]
    findings: tuple[Finding, ...]


_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_MERGE = "tag:yaml.org,2002:merge"
_NULL = "tag:yaml.org,2002:null"
_BOOL = "tag:yaml.org,2002:bool"
_plain_tags: dict[str, str] = {}
_PLAIN_CACHE_MAX = 200_000


class _Loader(yaml.CSafeLoader):
    """Safe loader that records duplicate keys and keeps JSON-compatible scalars.

    Speed matters here (it is most of a validation run): plain-scalar tag resolution is memoised by
    value, and documents are built by ``build`` below instead of PyYAML's generator-based constructor.
    """

    duplicates: list[tuple[str, int, int]]

    def resolve(self, kind: type, value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is yaml.ScalarNode and implicit[0]:
            tag = _plain_tags.get(value)
            if tag is None:
                tag = super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]
                if len(_plain_tags) > _PLAIN_CACHE_MAX:
                    _plain_tags.clear()
                _plain_tags[value] = tag
            return tag
        resolved: str = super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]
        return resolved

    def build(self, node: yaml.Node, memo: dict[int, Any]) -> Any:
        """Construct a document; aliases share one object (memo), as PyYAML does."""
        cls = node.__class__
        tag = node.tag
        if cls is yaml.ScalarNode:
            if tag == _STR:
                return node.value
            if tag == _NULL:
                return None
            if tag == _BOOL:
                return self.bool_values[node.value.lower()]
            return self.construct_object(node, deep=True)
        known = memo.get(id(node))
        if known is not None:
            return known
        if cls is yaml.SequenceNode and tag == _SEQ:
            items: list[Any] = []
            memo[id(node)] = items
            items.extend(self.build(child, memo) for child in node.value)
            return items
        if cls is yaml.MappingNode and tag == _MAP and not any(k.tag == _MERGE for k, _ in node.value):
            mapping: dict[str, Any] = {}
            memo[id(node)] = mapping
            for key_node, value_node in node.value:
                key = key_node.value if key_node.tag == _STR else self.construct_object(key_node, deep=True)
                if not isinstance(key, str):
                    key = _json_key(key)
                if key in mapping:
                    mark = key_node.start_mark
                    self.duplicates.append((key, mark.line + 1, mark.column + 1))
                mapping[key] = self.build(value_node, memo)
            return mapping
        return self.construct_object(node, deep=True)  # merge keys, custom tags: PyYAML's own path

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        self.flatten_mapping(node)
        mapping: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, str):
                key = _json_key(key)
            if key in mapping:
                mark = key_node.start_mark
                self.duplicates.append((key, mark.line + 1, mark.column + 1))
            mapping[key] = self.construct_object(value_node, deep=deep)
        return mapping


def _json_key(key: Any) -> str:
    if isinstance(key, bool):
        return "true" if key else "false"
    return "null" if key is None else str(key)


def _construct_str(loader: yaml.SafeLoader, node: yaml.Node) -> str:
    # Timestamps, binary and '=' stay strings: the API server receives them as JSON strings.
    return str(loader.construct_scalar(node))  # type: ignore[arg-type]


for _tag in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:value", "tag:yaml.org,2002:binary"):
    _Loader.add_constructor(_tag, _construct_str)


def load_documents(text: str, file: str, *, strict: bool = True) -> LoadedFile:
    """Parse every document of ``text``; a syntax error becomes a ``yaml`` Finding at its line.

    Documents before the error are kept; empty documents are dropped. In strict mode duplicate keys
    are ``yaml/duplicate-key`` errors (the API server would silently keep the last one).
    """
    loader = _Loader(text)
    loader.duplicates = []
    docs: list[YamlDoc] = []
    findings: list[Finding] = []
    index = 0
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is not None:
                data = loader.build(node, {})
                if data is not None:
                    docs.append(YamlDoc(data=data, line=node.start_mark.line + 1, index=index))
            index += 1
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = e.problem or e.context or "invalid YAML"
        findings.append(Finding(rule="yaml", severity=Severity.ERROR, file=file, line=line, column=col,
                                message=f"malformed YAML: {problem}", engine="yaml"))
    except yaml.YAMLError as e:
        findings.append(Finding(rule="yaml", severity=Severity.ERROR, file=file, line=1,
                                message=f"malformed YAML: {e}", engine="yaml"))
    finally:
        loader.dispose()
    if strict:
        findings.extend(
            Finding(rule="yaml/duplicate-key", severity=Severity.ERROR, file=file, line=line, column=col,
                    message=f"duplicate key {key!r}", engine="yaml")
            for key, line, col in loader.duplicates
        )
    return LoadedFile(docs=tuple(docs), findings=tuple(findings))


def document_positions(text: str) -> list[Positions]:
    """Positions of every JSON path, per document (empty documents included, in order)."""
    result: list[Positions] = []
    loader = yaml.CSafeLoader(text)
    try:
        while loader.check_node():
            node = loader.get_node()
            positions: Positions = {}
            if node is not None:
                _walk(node, "", positions)
            result.append(positions)
    except yaml.YAMLError:
        pass  # positions up to the error are still useful
    finally:
        loader.dispose()
    return result


def _walk(node: yaml.Node, path: str, out: Positions) -> None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else "?"
            child = f"{path}.{key}" if path else str(key)
            out.setdefault(child, (key_node.start_mark.line + 1, key_node.start_mark.column + 1))
            _walk(value_node, child, out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            child = f"{path}[{i}]"
            out[child] = (item.start_mark.line + 1, item.start_mark.column + 1)
            _walk(item, child, out)


class LazyPositions(Mapping[str, tuple[int, int]]):
    """A positions mapping computed on first use (thread-safe, computed once)."""

    def __init__(self, compute: Callable[[], Positions]) -> None:
        self._compute = compute
        self._value: Positions | None = None
        self._lock = threading.Lock()

    def _get(self) -> Positions:
        if self._value is None:
            with self._lock:
                if self._value is None:
                    self._value = self._compute()
        return self._value

    def __getitem__(self, key: str) -> tuple[int, int]:
        return self._get()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())

    def __contains__(self, key: object) -> bool:
        return key in self._get()


class FilePositions:
    """Composes a file's text once, on demand, and hands out one LazyPositions per document."""

    def __init__(self, text: str | Callable[[], str]) -> None:
        self._text = text
        self._docs: list[Positions] | None = None
        self._lock = threading.Lock()

    def _all(self) -> list[Positions]:
        if self._docs is None:
            with self._lock:
                if self._docs is None:
                    text = self._text if isinstance(self._text, str) else self._text()
                    self._docs = document_positions(text)
        return self._docs

    def for_document(self, index: int, prefix: str = "") -> LazyPositions:
        def compute() -> Positions:
            docs = self._all()
            positions = docs[index] if index < len(docs) else {}
            if not prefix:
                return positions
            # a List item: strip "items[i]." so paths are relative to the item
            cut = len(prefix) + 1
            return {p[cut:]: v for p, v in positions.items() if p.startswith(prefix + ".")}

        return LazyPositions(compute)
