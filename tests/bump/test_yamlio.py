"""The libyaml fast path and ruamel.yaml's parser must locate every node identically."""

from __future__ import annotations

from pathlib import Path

import pytest
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from handoff.errors import YamlError
from handoff.manifests import yamlio
from tests.harness.paths import CORPUS

FILES = sorted(CORPUS.rglob("*.y*ml"))
EDGE_TEXTS = [
    "\ufeffa: &x 1\r\nb: *x\r\nc: 'q'\r\n",
    "---\n...\n---\nk: [1, {a: b}]\n",
    "a: |\n  block\nb: >-\n  folded\nc: é\n",
    "a:\nb: !!str 5\n",
]


def shape(node: Node | None, seen: dict[int, int]) -> object:
    if node is None:
        return None
    if id(node) in seen:
        return ("alias", seen[id(node)])
    seen[id(node)] = len(seen)
    marks = (node.start_mark.index, node.start_mark.line, node.start_mark.column, node.end_mark.index)
    if not isinstance(node, ScalarNode) and not node.flow_style:
        marks = marks[:3]  # where a block collection ends differs by parser; the editor never uses it
    if isinstance(node, ScalarNode) and node.value == "" and node.style is None:
        marks = ()  # an empty value: the editor inserts after the key's colon instead
    if isinstance(node, ScalarNode):
        return ("scalar", node.value, node.style, marks)
    if isinstance(node, SequenceNode):
        return ("seq", bool(node.flow_style), marks, [shape(i, seen) for i in node.value])
    assert isinstance(node, MappingNode)
    return ("map", bool(node.flow_style), marks, [(shape(k, seen), shape(v, seen)) for k, v in node.value])


def both(text: str) -> tuple[object, object]:
    limits = yamlio.Limits()
    fast = yamlio.compose_all(text, display="t", limits=limits, fast=True)
    slow = yamlio.compose_all(text, display="t", limits=limits, fast=False)
    return [shape(d, {}) for d in fast], [shape(d, {}) for d in slow]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_same_nodes_on_corpus(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    try:
        fast, slow = both(text)
    except YamlError:
        with pytest.raises(YamlError):
            yamlio.compose_all(text, display="t", limits=yamlio.Limits(), fast=False)
        return
    assert fast == slow


@pytest.mark.parametrize("text", EDGE_TEXTS)
def test_same_nodes_on_edge_cases(text: str) -> None:
    fast, slow = both(text)
    assert fast == slow


def test_bom_offset_points_at_the_value() -> None:
    text = "\ufeffimage: web:1\n"
    (document,) = yamlio.compose_all(text, display="t", limits=yamlio.Limits())
    assert isinstance(document, MappingNode)
    value = document.value[0][1]
    assert text[value.start_mark.index:value.end_mark.index] == "web:1"
