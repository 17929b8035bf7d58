"""Marker comments (``# handoff:image web``): find the real ones and bind each to the scalar it names.

A marker is a YAML comment, so text that only looks like one inside a scalar (a block scalar's line, a
quoted string) is not a marker: a candidate counts only when its ``#`` lies outside every scalar of the
parsed document. A marker binds to the scalar on its line; where the line holds several (a flow
collection), the marker's role picks the key (``handoff:tag`` → ``tag``/``newTag``), and anything still
ambiguous is refused with the candidates.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import dataclass

from handoff.errors import EditError, HandoffError
from handoff.imageref import parse
from handoff.manifests.yamlio import MappingNode, Node, ScalarNode, SequenceNode

PATTERN = re.compile(
    r"#\s*handoff:(?P<field>image|tag|digest|name)\s+(?P<app>[A-Za-z0-9][A-Za-z0-9_.-]*)"
    r"(?:\s+env=(?P<env>[A-Za-z0-9_.-]+))?\s*$"
)
# What a marker looks like to a reader: after NFKC, with look-alike letters folded and invisible
# characters dropped. A comment matching this but not PATTERN is a marker handoff cannot read, and
# silently skipping it would leave that place on the old image while the bump exits 0.
LOOSE = re.compile(r"#\s*handoff\s*:\s*(?P<field>\S*)\s*(?P<app>[^\s#]*)")
_LOOK_ALIKES = str.maketrans("аеорсхуіјѕԁһкмтвнАЕОРСХУІЈЅНКМТВαεορτνικΑΕΟΡΤΝΙΚ",
                             "aeopcxyijsdhkmtbhAEOPCXYIJSHKMTBaeoptvikAEOPTNIK")
# Which keys a marker's role binds to when its line holds several scalars.
ROLE_KEYS = {
    "image": ("image",),
    "tag": ("tag", "newTag", "imageTag"),
    "digest": ("digest",),
    "name": ("newName", "repository"),
}


@dataclass(frozen=True)
class Marker:
    field: str
    app: str
    env: str | None
    line: int  # 0-based
    offset: int  # index of the '#' in the text

    def applies(self, apps: set[str], env: str | None) -> bool:
        return self.app in apps and (env is None or self.env is None or self.env == env)


@dataclass(frozen=True)
class NearMiss:
    """A comment that reads like a marker but is not one handoff can parse."""

    text: str
    app: str  # the app it seems to name, look-alikes folded ("" when none)
    line: int  # 0-based
    offset: int


@dataclass(frozen=True)
class Binding:
    marker: Marker
    node: ScalarNode
    key_node: ScalarNode | None
    path: str


def scan(text: str) -> list[Marker]:
    """Every line that looks like a marker, parsed or not (cheap; may include text inside scalars)."""
    found = []
    offset = 0
    for number, line in enumerate(text.splitlines(keepends=True)):
        if "handoff:" in line:
            match = PATTERN.search(line.rstrip("\r\n"))
            if match is not None:
                found.append(Marker(match["field"], match["app"], match["env"], number,
                                    offset + match.start()))
        offset += len(line)
    return found


def fold(text: str) -> str:
    """``text`` as it reads: NFKC, invisible (format) characters dropped, look-alike letters folded."""
    normal = unicodedata.normalize("NFKC", text)
    visible = "".join(c for c in normal if unicodedata.category(c) != "Cf")
    return visible.translate(_LOOK_ALIKES).lower()


def near_misses(text: str) -> list[NearMiss]:
    """Every ``#`` that starts marker-like text PATTERN does not accept (may be inside scalars)."""
    found = []
    offset = 0
    for number, line in enumerate(text.splitlines(keepends=True)):
        body = line.rstrip("\r\n")
        position = body.find("#")
        while position >= 0:
            start, rest = position, body[position:]
            position = body.find("#", position + 1)
            head = rest[:120]
            if ":" not in head and "\uff1a" not in head and "\ufe55" not in head:
                continue  # no colon, nor one NFKC folds to ':': cannot read as a marker
            loose = LOOSE.match(fold(head))
            if loose is not None and PATTERN.match(rest) is None:
                found.append(NearMiss(rest.strip(), loose["app"], number, offset + start))
        offset += len(line)
    return found


@dataclass(frozen=True)
class _Scalar:
    node: ScalarNode
    key_node: ScalarNode | None
    path: str


class MarkedFile:
    """The real markers of one parsed file and the scalars they can bind to."""

    def __init__(self, display: str, text: str, documents: list[Node | None]) -> None:
        self.display = display
        self._by_line: dict[int, list[_Scalar]] = {}
        spans: list[tuple[int, int]] = []
        for index, document in enumerate(documents):
            if document is not None:
                prefix = f"[{index}]" if len(documents) > 1 else ""
                self._index(document, prefix, spans, set())
        spans.sort()
        starts = [s for s, _ in spans]
        self.markers = [m for m in scan(text) if not _inside(m.offset, spans, starts)]
        self.near_misses = [m for m in near_misses(text) if not _inside(m.offset, spans, starts)
                            and not any(real.line == m.line and real.offset < m.offset
                                        for real in self.markers)]

    def bind(self, marker: Marker) -> Binding:
        candidates = self._by_line.get(marker.line, [])
        if not candidates:
            raise EditError(f"marker handoff:{marker.field} {marker.app} is not on a line with a scalar "
                            "value", file=self.display, line=marker.line + 1)
        chosen = candidates if len(candidates) == 1 else _by_role(marker.field, candidates)
        if len(chosen) != 1:
            names = ", ".join(c.path for c in candidates)
            raise EditError(f"marker handoff:{marker.field} {marker.app} is ambiguous on a line with several "
                            f"values ({names}): put the marker on the line of the one it names",
                            file=self.display, line=marker.line + 1)
        scalar = chosen[0]
        _check_role(self.display, marker, scalar)
        return Binding(marker, scalar.node, scalar.key_node, scalar.path)

    def bindings(self, apps: set[str], env: str | None) -> list[Binding]:
        folded = {fold(a) for a in apps}
        for miss in self.near_misses:
            if not miss.app or miss.app in folded or fold(miss.app) in folded:
                raise EditError(f"comment {miss.text!r} looks like a marker but is not one (expected "
                                "`# handoff:image|tag|digest|name APP [env=ENV]` in plain ASCII)",
                                file=self.display, line=miss.line + 1)
        return [self.bind(m) for m in self.markers if m.applies(apps, env)]

    def _index(self, node: Node, path: str, spans: list[tuple[int, int]], seen: set[int]) -> None:
        if id(node) in seen:
            return
        seen.add(id(node))
        if isinstance(node, ScalarNode):
            spans.append((node.start_mark.index, node.end_mark.index))
        elif isinstance(node, MappingNode):
            for key, value in node.value:
                child = f"{path}.{key.value}" if path else str(key.value)
                if isinstance(key, ScalarNode):
                    spans.append((key.start_mark.index, key.end_mark.index))
                if isinstance(value, ScalarNode) and isinstance(key, ScalarNode):
                    self._by_line.setdefault(key.start_mark.line, []).append(_Scalar(value, key, child))
                self._index(value, child, spans, seen)
        elif isinstance(node, SequenceNode):
            for position, item in enumerate(node.value):
                child = f"{path}[{position}]"
                if isinstance(item, ScalarNode):
                    self._by_line.setdefault(item.start_mark.line, []).append(_Scalar(item, None, child))
                self._index(item, child, spans, seen)


def _inside(offset: int, spans: list[tuple[int, int]], starts: list[int]) -> bool:
    """Is ``offset`` inside a scalar? Scalars never overlap, so only the last one starting before counts."""
    index = bisect.bisect_right(starts, offset) - 1
    return index >= 0 and spans[index][0] <= offset < spans[index][1]


# Keys that hold another role than the marker's: a tag written into `repository:` is a wrong edit.
_OTHER_ROLE_KEYS = {
    "image": {"tag", "newTag", "imageTag", "digest", "newName", "repository", "registry", "name"},
    "tag": {"image", "digest", "newName", "repository", "registry", "name"},
    "digest": {"image", "tag", "newTag", "imageTag", "newName", "repository", "registry", "name"},
    "name": {"image", "tag", "newTag", "imageTag", "digest", "registry"},
}


def _check_role(display: str, marker: Marker, scalar: _Scalar) -> None:
    """Refuse a binding whose value plainly holds another part of an image than the marker writes."""
    key = str(scalar.key_node.value) if scalar.key_node is not None else None
    value = str(scalar.node.value) if isinstance(scalar.node.value, str) else ""
    field = marker.field
    problem = None
    if key in _OTHER_ROLE_KEYS[field] and not (field == "image" and _image_shaped(value)):
        problem = f"key {key} holds another part of the image"
    elif field == "image" and value and key not in ("image", "reference") and not _image_shaped(value):
        problem = f"{value!r} is not an image reference"
    elif field == "tag" and value and "/" in value:
        problem = f"{value!r} holds a repository, not a tag"
    elif field == "digest" and value and not re.fullmatch(r"[a-z0-9]+(?:[+._-][a-z0-9]+)*:[0-9a-fA-F]{32,}",
                                                          value):
        problem = f"{value!r} is not a digest"
    elif field == "name" and value and ("@" in value or ":" in value.rsplit("/", 1)[-1]):
        problem = f"{value!r} holds a tag or digest (use handoff:image for a whole reference)"
    if problem is not None:
        raise EditError(f"marker handoff:{field} {marker.app} binds to {scalar.path}, but {problem}",
                        file=display, line=marker.line + 1, key=scalar.path)


def _by_role(field: str, candidates: list[_Scalar]) -> list[_Scalar]:
    for key in ROLE_KEYS[field]:
        named = [c for c in candidates if c.key_node is not None and c.key_node.value == key]
        if named:
            return named
    if field == "image":
        return [c for c in candidates if _image_shaped(str(c.node.value))]
    return []


def _image_shaped(value: str) -> bool:
    try:
        ref = parse(value)
    except HandoffError:
        return False
    return bool(ref.tag or ref.digest) and ("/" in value or ":" in value)
