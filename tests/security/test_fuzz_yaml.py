"""Fuzz the YAML locate/splice engine and the bounded loader.

Generated documents mix block and flow styles, comments, anchors/aliases, merge keys, quoting styles,
unicode, CRLF, a BOM and several documents. Any scalar is rewritten with any value: the editor either refuses
with a HandoffError or its output re-parses to exactly the intended document (the original with that one
value replaced, aliases following their anchor). Arbitrary text fed to the loader only ever raises YamlError.
"""

from __future__ import annotations

import os
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from handoff.edit.editor import FileEditor
from handoff.errors import EditError, HandoffError, YamlError
from handoff.manifests import yamlio

LIMITS = yamlio.Limits(max_bytes=1_000_000, max_depth=40, max_nodes=20_000)
KEY = st.sampled_from(["image", "tag", "name", "a", "b-c", "ü", "日本", "k_1", "x.y", "'q k'", '"d: k"'])
PLAIN = st.sampled_from(["web", "1.2.3", "1.10", "yes", "~", "null", "0o17", "0x1F", "a b", "ghcr.io/a/b:1",
                         "é", "v1", "-1", "", "2024-01-01", "true", ".inf"])
QUOTED = st.sampled_from(["'single'", "'it''s'", '"double"', '"esc\\"aped \\u00e9"', "''", '""', "'#'", '"a: b"'])
COMMENT = st.sampled_from(["", " # c", "  # ü ç", " #"])
NEW_VALUE = st.one_of(
    st.sampled_from(["1.2.4", "1.10", "yes", "", "null", "~", "a: b", "# x", "'", '"', "\\", "ünï", "-", "- x",
                     "{a}", "[1]", "*a", "&a", "!t", "%x", "@x", "`x", "a\nb", "\t", " lead", "trail ", "x #y",
                     "ghcr.io/acme/web@sha256:" + "a" * 64]),
    st.text(max_size=12),
)


@st.composite
def scalar(draw: st.DrawFn) -> str:
    return draw(st.one_of(PLAIN, QUOTED))


@st.composite
def flow(draw: st.DrawFn, depth: int) -> str:
    if depth > 2 or draw(st.booleans()):
        items = draw(st.lists(scalar(), max_size=3))
        return "[" + ", ".join(items) + "]"
    keys = draw(st.lists(KEY, max_size=3, unique=True))
    return "{" + ", ".join(f"{k}: {draw(st.one_of(scalar(), flow(depth + 1)))}" for k in keys) + "}"


@st.composite
def block(draw: st.DrawFn, indent: int, depth: int, anchors: list[str]) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    for key in draw(st.lists(KEY, min_size=1, max_size=4, unique=True)):
        shapes = ["scalar", "flow", "comment", "blank", "alias"] + (["map", "list", "anchor"] if depth < 3 else [])
        shape = draw(st.sampled_from(shapes))
        if shape == "alias" and not anchors:
            shape = "scalar"
        if shape == "scalar":
            lines.append(f"{pad}{key}: {draw(scalar())}{draw(COMMENT)}")
        elif shape == "flow":
            lines.append(f"{pad}{key}: {draw(flow(0))}{draw(COMMENT)}")
        elif shape == "comment":
            lines.append(f"{pad}#{draw(COMMENT)} {key}")
            lines.append(f"{pad}{key}: {draw(scalar())}")
        elif shape == "blank":
            lines += ["", f"{pad}{key}: {draw(scalar())}"]
        elif shape == "alias":
            lines.append(f"{pad}{key}: *{draw(st.sampled_from(anchors))}{draw(COMMENT)}")
        elif shape == "anchor":
            name = f"a{indent}x{len(anchors)}"  # unique: a nested block only appends after this name
            if draw(st.booleans()):
                lines.append(f"{pad}{key}: &{name} {draw(scalar())}")
            else:
                lines.append(f"{pad}{key}: &{name}")
                lines += draw(block(indent + 2, depth + 1, [*anchors]))
            anchors.append(name)
        elif shape == "map":
            lines.append(f"{pad}{key}:{draw(COMMENT)}")
            lines += draw(block(indent + draw(st.sampled_from([2, 4])), depth + 1, anchors))
        else:
            lines.append(f"{pad}{key}:")
            dash = indent + draw(st.sampled_from([0, 2]))
            for _ in range(draw(st.integers(1, 3))):
                if draw(st.booleans()):
                    lines.append(f"{' ' * dash}- {draw(scalar())}{draw(COMMENT)}")
                else:
                    lines.append(f"{' ' * dash}- name: {draw(scalar())}")
                    lines.append(f"{' ' * (dash + 2)}image: {draw(scalar())}")
    return lines


@st.composite
def yaml_text(draw: st.DrawFn) -> str:
    documents = []
    for _ in range(draw(st.integers(1, 3))):
        anchors: list[str] = []
        body = draw(block(0, 0, anchors))
        documents.append("\n".join(body))
    separator = draw(st.sampled_from(["\n---\n", "\n--- # next\n"]))
    text = draw(st.sampled_from(["", "---\n", "# head\n", "%YAML 1.2\n---\n"])) + separator.join(documents)
    text += draw(st.sampled_from(["\n", "", "\n...\n", "\n\n"]))
    if draw(st.booleans()):
        text = text.replace("\n", "\r\n")
    if draw(st.booleans()):
        text = "\ufeff" + text
    return text


def scalars_of(documents: list[Node | None]) -> list[tuple[ScalarNode, ScalarNode | None]]:
    """Every value scalar with its key node (None for list items), each node once."""
    found: list[tuple[ScalarNode, ScalarNode | None]] = []
    seen: set[int] = set()
    for document in documents:
        if document is None:
            continue
        for node in yamlio.walk(document):
            pairs: list[tuple[Node, ScalarNode | None]] = []
            if isinstance(node, MappingNode):
                pairs = [(v, k if isinstance(k, ScalarNode) else None) for k, v in node.value]
            elif isinstance(node, SequenceNode):
                pairs = [(v, None) for v in node.value]
            for value, key in pairs:
                if isinstance(value, ScalarNode) and id(value) not in seen:
                    seen.add(id(value))
                    found.append((value, key))
    return found


def intended(node: Node | None, target: int, value: str) -> Any:
    """The plain data of ``node`` with the scalar whose id is ``target`` replaced by the string ``value``."""
    if node is None:
        return None
    if id(node) == target:
        return value
    if isinstance(node, ScalarNode):
        return yamlio.scalar_data(node)
    if isinstance(node, SequenceNode):
        return [intended(item, target, value) for item in node.value]
    result: dict[Any, Any] = {}
    for k, v in node.value:
        key = intended(k, target, value)
        result[key if isinstance(key, str | int | float | bool) or key is None else str(key)] = intended(
            v, target, value)
    return result


@settings(max_examples=int(os.environ.get('HANDOFF_FUZZ_EXAMPLES', '300')), deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.data_too_large])
@given(yaml_text(), st.data())
def test_splice_yields_the_intended_document_or_refuses(text: str, data: st.DataObject) -> None:
    try:
        documents = yamlio.compose_all(text, display="f.yaml", limits=LIMITS)
    except YamlError:
        return  # a generated duplicate key or such: the loader refused, which is fine
    candidates = scalars_of(documents)
    if not candidates:
        return
    node, key = data.draw(st.sampled_from(candidates))
    value = data.draw(NEW_VALUE)
    editor = FileEditor("f.yaml", text, documents, LIMITS)
    try:
        changed = editor.set_scalar(node, value, key_node=key, path="x")
        result = editor.new_text()
    except EditError as e:
        assert "\n" not in str(e)
        return
    if not changed:  # the same text is already there (`1.10` stays `1.10` even where it reads as a float)
        assert result == text and node.value == value
        return
    reparsed = yamlio.compose_all(result, display="f.yaml", limits=LIMITS)
    assert [yamlio.to_data(d) for d in reparsed] == [intended(d, id(node), value) for d in documents]
    assert result.startswith("\ufeff") == text.startswith("\ufeff")
    assert ("\r\n" in result) == ("\r\n" in text)
    start, end = node.start_mark.index, node.end_mark.index
    if start != end:  # an empty value is filled after its key's colon instead
        assert result[:start] == text[:start]  # nothing before the value moved
        assert result.endswith(text[end:])  # nor anything after it


def _mangle(text: str) -> str:
    return text.replace(":", "", 1).replace("-", "- -", 1).replace("  ", "\t", 1)


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.text(max_size=200), yaml_text().map(_mangle),
                 st.binary(max_size=200).map(lambda b: b.decode("utf-8", "replace"))))
def test_loader_only_raises_yaml_error(text: str) -> None:
    try:
        documents = yamlio.compose_all(text, display="f.yaml", limits=LIMITS)
    except YamlError as e:
        assert str(e).startswith("f.yaml") and "\n" not in str(e)
        return
    for document in documents:
        yamlio.to_data(document)


def test_alias_bomb_and_deep_nesting_are_bounded() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(8))
    for text, words in ((bomb, "alias bomb"), ("[" * 5000 + "]" * 5000, "nesting deeper"),
                        ("a:\n" + "".join(" " * i + "b:\n" for i in range(1, 200)), "nesting deeper")):
        try:
            yamlio.compose_all(text, display="f.yaml", limits=LIMITS)
        except HandoffError as e:
            assert words in str(e)
        else:
            raise AssertionError(f"{words}: not refused")
