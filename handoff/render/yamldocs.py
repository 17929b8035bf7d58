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


class _Loader(yaml.CSafeLoader):
    """Safe loader that records duplicate keys and keeps JSON-compatible scalars."""

    duplicates: list[tuple[str, int, int]]

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
                data = loader.construct_document(node)
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

    def __init__(self, text: str) -> None:
        self._text = text
        self._docs: list[Positions] | None = None
        self._lock = threading.Lock()

    def _all(self) -> list[Positions]:
        if self._docs is None:
            with self._lock:
                if self._docs is None:
                    self._docs = document_positions(self._text)
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
