"""Dotted key paths with list selectors: ``image.tag``, ``sidecars[name=proxy].image.tag``, ``env[0]``.

A key that itself contains a dot (``image.tag: v1`` as one key) is written with the dot escaped:
``image\\.tag``.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from handoff.errors import EditError
from handoff.manifests.yamlio import MappingNode, Node, ScalarNode, SequenceNode

_PART = re.compile(r"(?P<name>[^.\[\]]+)?(?P<selectors>(?:\[[^\]]+\])*)")
_SELECTOR = re.compile(r"\[([^\]]+)\]")


@dataclass(frozen=True)
class Segment:
    """One step: a mapping key, a list index, or a list item whose ``field`` equals ``value``."""

    key: str | None = None
    index: int | None = None
    field: str | None = None
    value: str | None = None

    def __str__(self) -> str:
        if self.key is not None:
            return self.key
        if self.index is not None:
            return f"[{self.index}]"
        return f"[{self.field}={self.value}]"


@dataclass(frozen=True)
class Located:
    """Where a key path ends. ``value`` is None when only the last mapping key is missing."""

    path: str
    value: Node | None
    key_node: ScalarNode | None
    parent: Node | None


def parse_keypath(text: str) -> tuple[Segment, ...]:
    segments: list[Segment] = []
    for escaped in _split_unescaped_dots(text):
        part = escaped.replace("\\.", _DOT)
        match = _PART.fullmatch(part)
        if not part or match is None or (match["name"] is None and not match["selectors"]):
            raise EditError(f"invalid key path {text!r}")
        if match["name"] is not None:
            segments.append(Segment(key=match["name"].replace(_DOT, ".")))
        for selector in _SELECTOR.findall(match["selectors"] or ""):
            if selector.isdigit():
                segments.append(Segment(index=int(selector)))
            elif "=" in selector:
                field, value = selector.split("=", 1)
                segments.append(Segment(field=field.strip(), value=value.strip()))
            else:
                raise EditError(f"invalid list selector [{selector}] in key path {text!r}")
    return tuple(segments)


_DOT = "\x00"  # stands for an escaped dot while a part is matched


def _split_unescaped_dots(text: str) -> list[str]:
    """Split at dots that are neither escaped nor inside a ``[field=value]`` selector."""
    parts, current, depth, previous = [], "", 0, ""
    for char in text:
        depth += (char == "[") - (char == "]")
        if char == "." and depth == 0 and previous != "\\":
            parts.append(current)
            current = ""
        else:
            current += char
        previous = char
    return [*parts, current]


def format_path(segments: tuple[Segment, ...] | list[Segment]) -> str:
    out = ""
    for segment in segments:
        text = str(segment) if segment.key is None else segment.key.replace(".", "\\.")
        out += text if (segment.key is None or not out) else f".{text}"
    return out


def mapping_get(mapping: MappingNode, name: str) -> tuple[ScalarNode, Node] | None:
    """The (key, value) for ``name``, following ``<<`` merge keys like YAML readers do."""
    merges: list[Node] = []
    for key, value in mapping.value:
        if isinstance(key, ScalarNode):
            if key.value == name and key.value != "<<":
                return key, value
            if key.value == "<<":
                merges.append(value)
    for merge in merges:
        sources = merge.value if isinstance(merge, SequenceNode) else [merge]
        for source in sources:
            if isinstance(source, MappingNode):
                found = mapping_get(source, name)
                if found is not None:
                    return found
    return None


def mapping_keys(mapping: MappingNode) -> list[str]:
    return [str(k.value) for k, _ in mapping.value if isinstance(k, ScalarNode) and k.value != "<<"]


def nearest(name: str, candidates: list[str]) -> str:
    if not candidates:
        return "none"
    ranked = difflib.get_close_matches(name, candidates, n=len(candidates), cutoff=0.0)
    shown = ranked[:8]
    return ", ".join(shown) + (", ..." if len(ranked) > len(shown) else "") if shown else "none"


def resolve(root: Node | None, segments: tuple[Segment, ...], *, file: str,
            allow_missing_last: bool = False) -> Located:
    """Follow ``segments`` from ``root``; raise :class:`EditError` naming the nearest keys if absent."""
    node: Node | None = root
    key_node: ScalarNode | None = None
    parent: Node | None = None
    for position, segment in enumerate(segments):
        done = format_path(segments[:position]) or "the document root"
        here = format_path(segments[: position + 1])
        line = node.start_mark.line + 1 if node is not None else None
        if segment.key is not None:
            if not isinstance(node, MappingNode):
                raise EditError(f"key path {format_path(segments)!r}: {done} is not a mapping",
                                file=file, line=line, key=here)
            found = mapping_get(node, segment.key)
            if found is None:
                if allow_missing_last and position == len(segments) - 1:
                    return Located(path=here, value=None, key_node=None, parent=node)
                raise EditError(
                    f"key {segment.key!r} not found under {done} (nearest keys: "
                    f"{nearest(segment.key, mapping_keys(node))})", file=file, line=line, key=here)
            parent, (key_node, node) = node, found
            continue
        if not isinstance(node, SequenceNode):
            raise EditError(f"key path {format_path(segments)!r}: {done} is not a list",
                            file=file, line=line, key=here)
        parent, key_node = node, None
        if segment.index is not None:
            if segment.index >= len(node.value):
                raise EditError(f"index {segment.index} out of range: {done} has {len(node.value)} items",
                                file=file, line=line, key=here)
            node = node.value[segment.index]
            continue
        node = _select(node, segment, file=file, here=here, done=done)
    return Located(path=format_path(segments), value=node, key_node=key_node, parent=parent)


def _select(sequence: SequenceNode, segment: Segment, *, file: str, here: str, done: str) -> Node:
    seen: list[str] = []
    for item in sequence.value:
        if isinstance(item, MappingNode) and segment.field is not None:
            found = mapping_get(item, segment.field)
            if found is not None and isinstance(found[1], ScalarNode):
                if found[1].value == segment.value:
                    return item
                seen.append(str(found[1].value))
    raise EditError(
        f"no item with {segment.field}={segment.value} in {done} "
        f"(nearest: {nearest(segment.value or '', seen)})",
        file=file, line=sequence.start_mark.line + 1, key=here)
