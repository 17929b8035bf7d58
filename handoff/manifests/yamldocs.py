"""Fast multi-document YAML loading with source lines, duplicate-key detection and lazy positions.

Scalars are read as Kubernetes reads them (go-yaml v2, see ``scalars``). Most texts are parsed by the
Rust fast path (``fastyaml``); the rest, and every text with a problem, by PyYAML's C parser, which
also bounds nesting depth and alias expansion. Positions for every JSON path are computed only when
a finding asks for one, by composing that document again: a clean validation never pays for them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from handoff.manifests.bounds import DEFAULT_MAX_DEPTH, ExpansionBudget, LimitExceeded, Limits, too_deep
from handoff.manifests.fastyaml import document_spans, fast_documents, splittable
from handoff.manifests.scalars import BOOL, FLOAT, INT, NULL, json_key, plain_scalar, tagged_scalar
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
_PLAIN = "tag:handoff,2025:plain"  # untagged plain scalar: resolved the go-yaml v2 way (see scalars)


_CORE_SCALARS = frozenset((NULL, BOOL, INT, FLOAT))


class _Loader(yaml.CSafeLoader):
    """Safe loader that records duplicate keys, resolves plain scalars as Kubernetes does and bounds
    nesting depth and alias expansion (an alias bomb must not reach the schema validator)."""

    duplicates: list[tuple[str, int, int]]
    limits: Limits
    budget: ExpansionBudget

    def resolve(self, kind: type, value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is yaml.ScalarNode and implicit[0]:
            return _MERGE if value == "<<" else _PLAIN
        resolved: str = super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]
        return resolved

    def build(self, node: yaml.Node, memo: dict[int, tuple[Any, int]], depth: int = 0) -> Any:
        """Construct a document; aliases share one object (memo), as PyYAML does, but count the
        size they expand to."""
        cls = node.__class__
        tag = node.tag
        budget = self.budget
        budget.built += 1
        if cls is yaml.ScalarNode:
            if tag == _PLAIN:
                return plain_scalar(node.value)
            if tag == _STR or tag in _CORE_SCALARS:  # explicit !!int "5": read as go-yaml does
                return tagged_scalar(tag, node.value)
            return self.construct_object(node, deep=True)
        known = memo.get(id(node))
        if known is not None:
            data, size = known
            if size < 0:
                raise LimitExceeded("recursive alias (the document refers to itself)", _line(node))
            budget.alias(size, _line(node))
            return data
        if depth >= self.limits.max_depth:
            raise too_deep(self.limits, _line(node))
        before = budget.built - 1
        if cls is yaml.SequenceNode and tag == _SEQ:
            items: list[Any] = []
            memo[id(node)] = (items, -1)
            for child in node.value:
                items.append(self.build(child, memo, depth + 1))
            result: Any = items
        elif cls is yaml.MappingNode and tag == _MAP and not any(k.tag == _MERGE for k, _ in node.value):
            mapping: dict[str, Any] = {}
            memo[id(node)] = (mapping, -1)
            for key_node, value_node in node.value:
                key = key_node.value if key_node.tag == _STR else self.build(key_node, memo, depth + 1)
                if not isinstance(key, str):
                    key = json_key(key)
                if key in mapping:
                    mark = key_node.start_mark
                    self.duplicates.append((key, mark.line + 1, mark.column + 1))
                mapping[key] = self.build(value_node, memo, depth + 1)
            result = mapping
        else:
            result = self.construct_object(node, deep=True)  # merge keys, custom tags: PyYAML's own path
        memo[id(node)] = (result, budget.built - before)
        return result

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        own = sum(1 for key_node, _ in node.value if key_node.tag != _MERGE)
        self.flatten_mapping(node)
        merged = len(node.value) - own  # flatten puts the merged pairs first
        mapping: dict[Any, Any] = {}
        written: set[Any] = set()  # keys written in this mapping: overriding a merged key is the point of <<
        for index, (key_node, value_node) in enumerate(node.value):
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, str):
                key = json_key(key)
            if index >= merged:
                if key in written:
                    mark = key_node.start_mark
                    self.duplicates.append((key, mark.line + 1, mark.column + 1))
                written.add(key)
            mapping[key] = self.construct_object(value_node, deep=deep)
        return mapping


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def _construct_str(loader: yaml.SafeLoader, node: yaml.Node) -> str:
    # Timestamps, binary and '=' stay strings: the API server receives them as JSON strings.
    return str(loader.construct_scalar(node))  # type: ignore[arg-type]


def _construct_plain(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    return plain_scalar(str(loader.construct_scalar(node)))  # type: ignore[arg-type]


def _construct_core(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    return tagged_scalar(str(node.tag), str(loader.construct_scalar(node)))  # type: ignore[arg-type]


for _tag in _CORE_SCALARS:  # under a merge key PyYAML constructs: the same meanings there
    _Loader.add_constructor(_tag, _construct_core)
for _tag in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:value", "tag:yaml.org,2002:binary"):
    _Loader.add_constructor(_tag, _construct_str)
_Loader.add_constructor(_PLAIN, _construct_plain)


def load_documents(text: str, file: str, *, strict: bool = True, limits: Limits | None = None) -> LoadedFile:
    """Parse every document of ``text``; a syntax error becomes a ``yaml`` Finding at its line.

    Documents before the error are kept; empty documents are dropped. In strict mode duplicate keys
    are ``yaml/duplicate-key`` errors (the API server would silently keep the last one). Nesting
    depth and alias expansion are bounded (``yaml/limit``). The fast parser is tried first; any doubt
    (see ``fastyaml``) hands the text to the exact loader.
    """
    limits = limits or file_limits()
    # the fast path checks the default depth: a narrower limit is the exact loader's to apply
    fast = fast_documents(text) if limits.max_depth >= DEFAULT_MAX_DEPTH else None
    if fast is not None:
        return LoadedFile(docs=tuple(YamlDoc(data, line, index) for data, line, index in fast), findings=())
    return load_exact(text, file, strict=strict, limits=limits)


def load_exact(text: str, file: str, *, strict: bool = True, limits: Limits | None = None) -> LoadedFile:
    """``load_documents`` with PyYAML only (positions of errors, duplicate keys, aliases, limits)."""
    loader = _Loader(text)
    loader.duplicates = []
    loader.limits = limits or file_limits()
    loader.budget = ExpansionBudget(loader.limits)
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
    except LimitExceeded as e:
        findings.append(Finding(rule="yaml/limit", severity=Severity.ERROR, file=file, line=e.line,
                                message=f"YAML refused: {e}", engine="yaml"))
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = " ".join(str(e.problem or e.context or "invalid YAML").split())
        findings.append(Finding(rule="yaml", severity=Severity.ERROR, file=file, line=line, column=col,
                                message=f"malformed YAML: {problem}", engine="yaml"))
    except yaml.YAMLError as e:
        findings.append(Finding(rule="yaml", severity=Severity.ERROR, file=file, line=1,
                                message=f"malformed YAML: {' '.join(str(e).split())}", engine="yaml"))
    finally:
        loader.dispose()
    if strict:
        findings.extend(
            Finding(rule="yaml/duplicate-key", severity=Severity.ERROR, file=file, line=line, column=col,
                    message=f"duplicate key {key!r}", engine="yaml")
            for key, line, col in loader.duplicates
        )
    return LoadedFile(docs=tuple(docs), findings=tuple(findings))


_default_limits: Limits | None = None


def file_limits() -> Limits:
    """Size, depth and alias limits for every manifest (``HANDOFF_MAX_FILE_BYTES``; read once)."""
    global _default_limits  # noqa: PLW0603
    if _default_limits is None:
        _default_limits = Limits.from_env()
    return _default_limits


class _PositionsLoader(yaml.CSafeLoader):
    # tags do not matter for positions: skip PyYAML's Python-level resolver hooks
    def resolve(self, kind: type, value: Any, implicit: tuple[bool, bool]) -> str:
        return _STR

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        pass

    def ascend_resolver(self) -> None:
        pass


def document_positions(text: str, lines_before: int = 0) -> list[Positions]:
    """Positions of every JSON path, per document (empty documents included, in order); lines are
    1-based and shifted by ``lines_before`` (``text`` is a span of a bigger one)."""
    result: list[Positions] = []
    loader = _PositionsLoader(text)
    try:
        while loader.check_node():
            node = loader.get_node()
            positions: Positions = {}
            if node is not None:
                _walk(node, "", positions, lines_before + 1)
            result.append(positions)
    except yaml.YAMLError:
        pass  # positions up to the error are still useful
    finally:
        loader.dispose()
    return result


_Scalar = yaml.ScalarNode


def _walk(node: yaml.Node, path: str, out: Positions, first_line: int) -> None:
    """A key's path keeps its first position (setdefault), a list item's its last; a scalar has no
    paths below it, so it is not walked."""
    if isinstance(node, yaml.MappingNode):
        prefix = f"{path}." if path else ""
        for key_node, value_node in node.value:
            child = prefix + (key_node.value if key_node.__class__ is _Scalar else "?")
            mark = key_node.start_mark
            out.setdefault(child, (mark.line + first_line, mark.column + 1))
            if value_node.__class__ is not _Scalar:
                _walk(value_node, child, out, first_line)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            child = f"{path}[{i}]"
            mark = item.start_mark
            out[child] = (mark.line + first_line, mark.column + 1)
            if item.__class__ is not _Scalar:
                _walk(item, child, out, first_line)


_UNTAGGED = "tag:handoff,2025:untagged"
MERGE_TAG = "tag:yaml.org,2002:merge"


class _TagsLoader(_PositionsLoader):
    # every node written without a tag gets one marker tag: what is left is what the text spelled
    def resolve(self, kind: type, value: Any, implicit: tuple[bool, bool]) -> str:
        return _UNTAGGED


@dataclass(frozen=True)
class TaggedNode:
    """A node of the text written with an explicit tag (``!!binary …``, ``!!str …``), or a mapping key that
    is not a scalar (``? [a]: …``): ``tag`` as PyYAML expands it, "" when written without one."""

    path: str  # the JSON path of the node (of the key's entry, for a key)
    tag: str
    line: int
    key: bool
    scalar: bool


def explicit_tags(text: str) -> list[TaggedNode]:
    """Every explicitly tagged node, every non-scalar key and every merge key (a plain ``<<``, reported
    with :data:`MERGE_TAG`) of every document of ``text`` (already parsed by ``load_documents``: limits and
    syntax were checked there), each node once whatever aliases it."""
    found: list[TaggedNode] = []
    seen: set[int] = set()
    loader = _TagsLoader(text)
    try:
        while loader.check_node():
            root = loader.get_node()
            stack: list[tuple[yaml.Node, str]] = [(root, "")] if root is not None else []
            while stack:
                node, path = stack.pop()
                if id(node) in seen:
                    continue
                seen.add(id(node))
                if node.tag != _UNTAGGED:
                    found.append(TaggedNode(path, node.tag, _line(node), key=False,
                                            scalar=isinstance(node, yaml.ScalarNode)))
                if isinstance(node, yaml.MappingNode):
                    for key_node, value_node in node.value:
                        scalar = isinstance(key_node, yaml.ScalarNode)
                        child = f"{path}.{key_node.value if scalar else '?'}" if path else \
                            str(key_node.value if scalar else "?")
                        if scalar and key_node.tag == _UNTAGGED and key_node.value == "<<" \
                                and not key_node.style:  # a merge key, as YAML 1.1 reads a plain <<
                            found.append(TaggedNode(child, MERGE_TAG, _line(key_node), key=True, scalar=True))
                        elif key_node.tag != _UNTAGGED or not scalar:
                            found.append(TaggedNode(child, "" if key_node.tag == _UNTAGGED else key_node.tag,
                                                    _line(key_node), key=True, scalar=scalar))
                        stack.append((value_node, child))
                elif isinstance(node, yaml.SequenceNode):
                    stack.extend((item, f"{path}[{i}]") for i, item in enumerate(node.value))
    except yaml.YAMLError:
        pass  # the parse that came first reported it
    finally:
        loader.dispose()
    return sorted(found, key=lambda n: n.line)


def written_scalars(text: str) -> Iterator[str]:
    """Every scalar written in ``text`` (already parsed by ``load_documents``), keys too, each node once
    whatever aliases it: also what a merge key overrides, which the loaded data keeps only one of (Helm's
    reader and PyYAML's do not agree which)."""
    loader = _TagsLoader(text)
    try:
        while loader.check_node():
            root = loader.get_node()
            stack: list[yaml.Node] = [root] if root is not None else []
            seen: set[int] = set()
            while stack:
                node = stack.pop()
                if id(node) in seen:
                    continue
                seen.add(id(node))
                if isinstance(node, yaml.ScalarNode):
                    yield str(node.value)
                elif isinstance(node, yaml.MappingNode):
                    stack.extend(n for pair in node.value for n in pair)
                elif isinstance(node, yaml.SequenceNode):
                    stack.extend(node.value)
    except yaml.YAMLError:
        return  # the parse that came first reported it
    finally:
        loader.dispose()


class LazyPositions(Mapping[str, tuple[int, int]]):
    """A positions mapping computed on first use (a race at worst computes it twice: no lock needed)."""

    def __init__(self, compute: Callable[[], Positions]) -> None:
        self._compute = compute
        self._value: Positions | None = None

    def _get(self) -> Positions:
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

    def get(self, key: str, default: Any = None) -> Any:
        """One lookup (``Mapping.get`` would go through ``__getitem__`` and a KeyError)."""
        return self._get().get(key, default)


class FilePositions:
    """Hands out one LazyPositions per document of a file. Asked for, a document's positions come from
    composing that document's own span of the text only (a stream with findings in a few documents
    does not compose every other one); a text that cannot be cut where PyYAML cuts it (directives,
    ``...``, unusual line breaks) is composed whole, once."""

    def __init__(self, text: str | Callable[[], str]) -> None:
        self._source = text
        self._text: str | None = None
        self._spans: list[tuple[int, int, int]] | None = None  # (begin, end, newlines before begin)
        self._whole: list[Positions] | None = None

    def _read(self) -> str:
        if self._text is None:
            self._text = self._source if isinstance(self._source, str) else self._source()
            if splittable(self._text):
                self._spans = _spans_with_lines(self._text)
        return self._text

    def _document(self, index: int) -> Positions:
        text = self._read()
        if self._spans is None:
            if self._whole is None:
                self._whole = document_positions(text)
            return self._whole[index] if index < len(self._whole) else {}
        if index >= len(self._spans):
            return {}
        begin, end, lines = self._spans[index]
        docs = document_positions(text[begin:end], lines)
        return docs[0] if docs else {}

    def for_document(self, index: int, prefix: str = "") -> LazyPositions:
        def compute() -> Positions:
            positions = self._document(index)
            if not prefix:
                return positions
            # a List item: strip "items[i]." so paths are relative to the item
            cut = len(prefix) + 1
            return {p[cut:]: v for p, v in positions.items() if p.startswith(prefix + ".")}

        return LazyPositions(compute)


def _spans_with_lines(text: str) -> list[tuple[int, int, int]]:
    spans: list[tuple[int, int, int]] = []
    lines = 0
    at = 0
    for begin, end in document_spans(text):
        lines += text.count("\n", at, begin)
        spans.append((begin, end, lines))
        at = begin
    return spans


def scalar_events(text: str) -> Iterator[str]:
    """Every scalar of ``text`` (keys included) as the parser meets it, with no node graph built: a dense
    file costs its strings. Stops quietly where ``text`` stops being YAML."""
    with contextlib.suppress(yaml.YAMLError):
        for event in yaml.parse(text, Loader=yaml.CSafeLoader):
            if isinstance(event, yaml.ScalarEvent):
                yield event.value
