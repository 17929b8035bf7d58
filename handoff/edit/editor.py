"""Byte-exact edits of one YAML file: splice new text at located nodes, then verify the result.

Nothing is re-serialised: each edit replaces (or inserts) only the characters of one value, so comments,
quoting, indentation, anchors, document markers, BOM and line endings stay as they were. After splicing
the text is composed again and compared node by node with the original; anything but the intended
change makes the edit refuse.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from handoff.edit import scalars
from handoff.errors import EditError, YamlError
from handoff.manifests import yamlio
from handoff.manifests.yamlio import MappingNode, Node, ScalarNode, SequenceNode

Item = Sequence[tuple[str, str]]


@dataclass(frozen=True)
class Splice:
    start: int
    end: int
    text: str
    order: int


class FileEditor:
    """Collects edits against one file's text and produces the new text."""

    def __init__(self, display: str, text: str, documents: list[Node | None], limits: yamlio.Limits) -> None:
        self.display = display
        self.text = text
        self.documents = documents
        self.limits = limits
        self.newline = "\r\n" if "\r\n" in text else "\n"
        self._splices: list[Splice] = []
        self._replaced: dict[int, Any] = {}
        self._added_keys: dict[int, list[tuple[str, Any]]] = {}
        self._appended: dict[int, list[Any]] = {}

    @property
    def changed(self) -> bool:
        return bool(self._splices)

    # -- edits ---------------------------------------------------------------------------------------

    def set_scalar(self, node: Node, value: str, *, key_node: ScalarNode | None, path: str) -> bool:
        """Write ``value`` into scalar ``node``; False when it already holds that value."""
        line = node.start_mark.line + 1
        if not isinstance(node, ScalarNode):
            kind = "a mapping" if isinstance(node, MappingNode) else "a list"
            raise EditError(f"expected a scalar value, found {kind}", file=self.display, line=line, key=path)
        if id(node) in self._replaced:
            if self._replaced[id(node)] != value:
                raise EditError(f"two targets write different values ({self._replaced[id(node)]!r}, "
                                f"{value!r}) to the same value", file=self.display, line=line, key=path)
            return False
        if node.value == value and (node.style is not None or yamlio.tag_of(node) != yamlio.NULL):
            return False  # same text: idempotent even where an unquoted tag reads as a number
        if node.style in ("|", ">"):
            raise EditError("refusing to rewrite a block scalar", file=self.display, line=line, key=path)
        if node.start_mark.line != node.end_mark.line:
            raise EditError("refusing to rewrite a multi-line scalar", file=self.display, line=line, key=path)
        start, end = self._value_start(node), node.end_mark.index
        rendered = scalars.render(value, node.style)
        if start == end:  # an empty value (`tag:`): insert after the key's colon
            if key_node is None:
                raise EditError("refusing to fill an empty list item", file=self.display, line=line, key=path)
            start = end = self._after_colon(key_node, path)
            if self.text[start:start + 1] == " ":
                start = end = start + 1
            else:
                rendered = " " + rendered
        self._add(start, end, rendered)
        self._replaced[id(node)] = value
        return True

    def add_key(self, mapping: MappingNode, key: str, value: str, *, path: str,
                after: ScalarNode | None = None) -> None:
        """Add ``key: value`` to ``mapping`` (after the ``after`` key, else at its end)."""
        style = _sibling_style(mapping)
        rendered = f"{key}: {scalars.render(value, style)}"
        self._added_keys.setdefault(id(mapping), []).append((key, value))
        if mapping.flow_style:
            self._insert_in_flow(mapping, rendered, path)
            return
        if not mapping.value:
            raise EditError("cannot add a key to an empty block mapping", file=self.display,
                            line=mapping.start_mark.line + 1, key=path)
        anchor = _pair_for(mapping, after) if after is not None else mapping.value[-1]
        indent = " " * mapping.value[0][0].start_mark.column
        self._insert_lines(_content_end(anchor[0], anchor[1]), [f"{indent}{rendered}"])

    def append_item(self, sequence: SequenceNode, item: Item, *, path: str) -> None:
        """Append a mapping item (ordered key/values) to ``sequence`` in the style of its last item."""
        self._appended.setdefault(id(sequence), []).append(dict(item))
        last = sequence.value[-1] if sequence.value else None
        if sequence.flow_style or (isinstance(last, MappingNode) and last.flow_style):
            flow = "{" + ", ".join(f"{k}: {scalars.render(v, None)}" for k, v in item) + "}"
            if sequence.flow_style:
                self._insert_in_flow(sequence, flow, path)
                return
            assert last is not None
            dash = " " * sequence.start_mark.column
            self._insert_lines(_content_end(last), [f"{dash}- {flow}"])
            return
        if not isinstance(last, MappingNode) or not last.value:
            raise EditError("cannot append to a list whose items are not mappings", file=self.display,
                            line=sequence.start_mark.line + 1, key=path)
        dash_column = sequence.start_mark.column
        key_column = last.value[0][0].start_mark.column
        style = _sibling_style(last)
        self._insert_lines(_content_end(last), _block_item(item, dash_column, key_column, style))

    def add_sequence_key(self, mapping: MappingNode, key: str, items: Sequence[Item], *, path: str) -> None:
        """Add ``key:`` holding a block list of mapping items at the end of block ``mapping``."""
        if mapping.flow_style or not mapping.value:
            raise EditError(f"cannot add {key!r} to this mapping", file=self.display,
                            line=mapping.start_mark.line + 1, key=path)
        self._added_keys.setdefault(id(mapping), []).append((key, [dict(i) for i in items]))
        column = mapping.value[0][0].start_mark.column
        dash_column = column + _sequence_indent(self.documents)
        lines = [f"{' ' * column}{key}:"]
        for item in items:
            lines += _block_item(item, dash_column, dash_column + 2, None)
        self._insert_lines(_content_end(mapping), lines)

    # -- result --------------------------------------------------------------------------------------

    def new_text(self) -> str:
        """The edited text, verified to differ from the original only by the intended values."""
        if not self._splices:
            return self.text
        out: list[str] = []
        cursor = 0
        for splice in sorted(self._splices, key=lambda s: (s.start, s.order)):
            if splice.start < cursor:
                raise EditError("overlapping edits", file=self.display)
            out += [self.text[cursor:splice.start], splice.text]
            cursor = splice.end
        out.append(self.text[cursor:])
        text = "".join(out)
        self._verify(text)
        return text

    def _verify(self, text: str) -> None:
        try:
            documents = yamlio.compose_all(text, display=self.display, limits=self.limits)
        except YamlError as e:
            raise EditError(f"refusing edit: the result would not parse ({e.message})",
                            file=self.display, line=e.line) from e
        if len(documents) != len(self.documents):
            raise EditError("refusing edit: the number of documents would change", file=self.display)
        pairs: dict[int, int] = {}
        for old, new in zip(self.documents, documents, strict=True):
            self._same(old, new, pairs)

    def _same(self, old: Node | None, new: Node | None, pairs: dict[int, int]) -> None:
        if old is None or new is None:
            if old is not new:
                self._refuse(old or new)
            return
        if id(old) in pairs:  # an alias: it must still point at the same (edited) definition
            if pairs[id(old)] != id(new):
                self._refuse(new)
            return
        pairs[id(old)] = id(new)
        if id(old) in self._replaced:
            if yamlio.to_data(new) != self._replaced[id(old)] or not isinstance(new, ScalarNode):
                self._refuse(new)
            return
        if type(old) is not type(new) or yamlio.tag_of(old) != yamlio.tag_of(new) or old.anchor != new.anchor:
            self._refuse(new)
        if isinstance(old, ScalarNode):
            if old.value != new.value or old.style != getattr(new, "style", None):
                self._refuse(new)
        elif isinstance(old, MappingNode):
            added = dict(self._added_keys.get(id(old), []))
            existing = {str(k.value) for k, _ in old.value if isinstance(k, ScalarNode)}
            new_keys = {str(k.value) for k, _ in new.value} - existing
            kept = [(k, v) for k, v in new.value if str(k.value) not in new_keys]
            extra = {str(k.value): yamlio.to_data(v) for k, v in new.value if str(k.value) in new_keys}
            if len(kept) != len(old.value) or extra != added:
                self._refuse(new)
            for (ok, ov), (nk, nv) in zip(old.value, kept, strict=True):
                self._same(ok, nk, pairs)
                self._same(ov, nv, pairs)
        elif isinstance(old, SequenceNode):
            appended = self._appended.get(id(old), [])
            if len(new.value) != len(old.value) + len(appended):
                self._refuse(new)
            for o, n in zip(old.value, new.value, strict=False):
                self._same(o, n, pairs)
            if [yamlio.to_data(n) for n in new.value[len(old.value):]] != appended:
                self._refuse(new)

    def _refuse(self, node: Node | None) -> None:
        line = node.start_mark.line + 1 if node is not None else None
        raise EditError("refusing edit: it would change more than the intended value",
                        file=self.display, line=line)

    # -- text positions ------------------------------------------------------------------------------

    def _add(self, start: int, end: int, text: str) -> None:
        self._splices.append(Splice(start, end, text, len(self._splices)))

    def _value_start(self, node: ScalarNode) -> int:
        """Where the value's own text starts, after any `&anchor` and `!tag` properties."""
        position = int(node.start_mark.index)
        end = int(node.end_mark.index)
        while position < end and self.text[position] in "&!":
            while position < end and self.text[position] not in " \t":
                position += 1
            while position < end and self.text[position] in " \t":
                position += 1
        return position

    def _after_colon(self, key_node: ScalarNode, path: str) -> int:
        position = key_node.end_mark.index
        while position < len(self.text) and self.text[position] in " \t":
            position += 1
        if position >= len(self.text) or self.text[position] != ":":
            raise EditError("cannot find the ':' after the key", file=self.display,
                            line=key_node.start_mark.line + 1, key=path)
        return int(position) + 1

    def _insert_in_flow(self, node: MappingNode | SequenceNode, rendered: str, path: str) -> None:
        if node.value:
            last = node.value[-1]
            end = int((last[1] if isinstance(last, tuple) else last).end_mark.index)
            self._add(end, end, f", {rendered}")
            return
        opening = node.start_mark.index
        if self.text[opening] not in "[{":
            raise EditError("cannot find the flow collection's bracket", file=self.display,
                            line=node.start_mark.line + 1, key=path)
        self._add(opening + 1, opening + 1, rendered)

    def _insert_lines(self, after: int, lines: list[str]) -> None:
        """Insert whole lines after the line that holds character ``after``."""
        nl = self.newline
        if after > 0 and self.text[after - 1] == "\n":
            position = after
        else:
            found = self.text.find("\n", after)
            position = len(self.text) if found < 0 else found + 1
        if position == len(self.text) and not self.text.endswith("\n"):
            self._add(position, position, "".join(nl + line for line in lines))
        else:
            self._add(position, position, "".join(line + nl for line in lines))


def _pair_for(mapping: MappingNode, key: ScalarNode) -> tuple[Node, Node]:
    for pair in mapping.value:
        if pair[0] is key:
            return pair  # type: ignore[no-any-return]
    return mapping.value[-1]  # type: ignore[no-any-return]


def _content_end(*nodes: Node) -> int:
    """The character offset where the last scalar under ``nodes`` ends (container marks are unreliable)."""
    end = 0
    for node in nodes:
        for descendant in yamlio.walk(node):
            flow = getattr(descendant, "flow_style", False)
            if isinstance(descendant, ScalarNode) or not descendant.value or flow:
                end = max(end, int(descendant.end_mark.index))
    return end


def _sibling_style(mapping: MappingNode) -> str | None:
    """Quote new values like the existing string values of this mapping do."""
    for _, value in mapping.value:
        if isinstance(value, ScalarNode) and value.style in ("'", '"'):
            return str(value.style)
    return None


def _sequence_indent(documents: list[Node | None]) -> int:
    """How far this file indents a block list's dash under its key (0 or 2, else 0)."""
    for document in documents:
        if document is None:
            continue
        for node in yamlio.walk(document):
            if isinstance(node, MappingNode) and not node.flow_style:
                for key, value in node.value:
                    if isinstance(value, SequenceNode) and not value.flow_style and value.value:
                        return max(0, int(value.start_mark.column) - int(key.start_mark.column))
    return 0


def _block_item(item: Item, dash_column: int, key_column: int, style: str | None) -> list[str]:
    lines = []
    for position, (key, value) in enumerate(item):
        rendered = f"{key}: {scalars.render(value, style)}"
        if position == 0:
            gap = max(1, key_column - dash_column - 1)
            lines.append(f"{' ' * dash_column}-{' ' * gap}{rendered}")
        else:
            lines.append(f"{' ' * key_column}{rendered}")
    return lines
