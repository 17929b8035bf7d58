"""The libyaml fast path and ruamel.yaml's parser must locate every node identically and give every
scalar the same value, type and tag (Kubernetes' meaning)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handoff.errors import YamlError
from handoff.manifests import yamldocs, yamlio
from handoff.manifests.yamlio import MappingNode, Node, ScalarNode, SequenceNode
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


# --- one meaning per scalar: values and tags, not shapes, agree between the two node parsers ---

HAND_PICKED = ["yes", "no", "on", "off", "y", "n", "Y", "NO", "True", "false", "0o17", "017", "0x1F", "0b101",
               "09", "1e3", "1.5", ".5", ".inf", "-.Inf", ".nan", "~", "null", "", "2001-12-14",
               "2001-12-14T21:59:43.10-05:00", "1_000", "1:20", "+12", "-0", "=", "'yes'", '"017"', "!!str 5",
               "!!int '5'", "!!float 1", "!!bool yes", "web:1.2", "99999999999999999999"]
EXPECTED = {"yes": True, "no": False, "y": True, "NO": False, "0o17": 15, "017": 15, "0x1F": 31, "1e3": 1000.0,
            ".inf": float("inf"), "~": None, "null": None, "2001-12-14": "2001-12-14", "1_000": 1000,
            "1:20": "1:20", "'yes'": "yes", '"017"': "017", "!!str 5": "5", "!!int '5'": 5, "!!float 1": 1.0}


def values(text: str, fast: bool) -> list[object]:
    documents = yamlio.compose_all(text, display="t", limits=yamlio.Limits(), fast=fast)
    return [yamlio.to_data(d) for d in documents]


def tags(text: str, fast: bool) -> list[str]:
    documents = yamlio.compose_all(text, display="t", limits=yamlio.Limits(), fast=fast)
    return [yamlio.tag_of(n) for d in documents if d is not None for n in yamlio.walk(d)]


def typed(data: object) -> str:
    return repr(data)  # 1, 1.0 and True are equal in Python, not in their reprs


@pytest.mark.parametrize("scalar", HAND_PICKED)
def test_both_parsers_give_each_scalar_the_same_value_type_and_tag(scalar: str) -> None:
    text = f"a: {scalar}\nlist:\n- {scalar}\n- x\n"
    assert typed(values(text, fast=True)) == typed(values(text, fast=False))
    assert tags(text, fast=True) == tags(text, fast=False)
    if scalar in EXPECTED:
        assert typed(values(text, fast=True)[0]["a"]) == typed(EXPECTED[scalar])  # type: ignore[index]


def test_yes_means_what_kubernetes_reads_on_both_parsers() -> None:
    for fast in (True, False):
        (document,) = yamlio.compose_all("a: yes\n", display="t", limits=yamlio.Limits(), fast=fast)
        assert yamlio.to_data(document) == {"a": True}
        assert isinstance(document, MappingNode)
        assert yamlio.tag_of(document.value[0][1]) == "tag:yaml.org,2002:bool"


def test_node_values_match_the_manifest_loader() -> None:
    """The edit side (nodes) and the validate side (data) read every scalar the same way."""
    text = "".join(f"k{i}: {s}\n" for i, s in enumerate(HAND_PICKED)) + "1: one\ntrue: t\nm: &m {x: 1}\nn: *m\n"
    (document,) = yamlio.compose_all(text, display="t", limits=yamlio.Limits(), fast=False)
    (loaded,) = yamldocs.load_exact(text, "t").docs
    assert typed(yamlio.to_data(document)) == typed(loaded.data)


_TOKEN = st.text(alphabet="yYnNoOfFtTeE01789._-+:~xX_ab", min_size=1, max_size=6)
_LINE = st.one_of(
    st.builds(lambda k, v: f"k{k}: {v}", st.integers(0, 3), _TOKEN),
    st.builds(lambda v: f"- {v}", _TOKEN),
    st.builds(lambda a, b: f"f: [{a}, {b}]", _TOKEN, _TOKEN),
    st.builds(lambda v: f"a: &x {v}\nb: *x", _TOKEN),
    st.just("---"),
)


@pytest.mark.filterwarnings("ignore::ruamel.yaml.error.ReusedAnchorWarning")  # a re-used &x is fine here
@settings(max_examples=400, deadline=None)
@given(st.lists(_LINE, min_size=1, max_size=6))
def test_parsers_never_disagree_on_values_or_tags(lines: list[str]) -> None:
    text = "\n".join(lines) + "\n"
    try:
        slow = values(text, fast=False), tags(text, fast=False)
    except YamlError:
        with pytest.raises(YamlError):
            values(text, fast=True)
        return
    try:
        fast = values(text, fast=True), tags(text, fast=True)
    except YamlError:  # libyaml refused what ruamel took (a known gap): nothing to compare
        return
    assert typed(fast[0]) == typed(slow[0])
    assert fast[1] == slow[1]


# --- one run composes a file once ---

def test_load_file_composes_an_unchanged_file_once(tmp_path: Path) -> None:
    path = tmp_path / "values.yaml"
    path.write_text("image: {tag: '1.0'}\n")
    hits = yamlio._composed.hits
    first = yamlio.load_file(path, display="values.yaml")
    second = yamlio.load_file(path, display="values.yaml")
    assert yamlio._composed.hits == hits + 1
    assert second[1][0] is first[1][0]


def test_load_file_recomposes_a_changed_file_even_with_the_same_size_and_mtime(tmp_path: Path) -> None:
    path = tmp_path / "values.yaml"
    path.write_text("image: {tag: '1.0'}\n")
    before = path.stat()
    yamlio.load_file(path, display="values.yaml")
    path.write_text("image: {tag: '2.0'}\n")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    _, (document,) = yamlio.load_file(path, display="values.yaml")
    assert yamlio.to_data(document) == {"image": {"tag": "2.0"}}


def test_a_file_accepted_under_wide_limits_is_still_checked_under_narrow_ones(tmp_path: Path) -> None:
    path = tmp_path / "values.yaml"
    path.write_text("a: [[[[1]]]]\n")
    yamlio.load_file(path, display="values.yaml")
    with pytest.raises(YamlError, match="nesting deeper than 2"):
        yamlio.load_file(path, display="values.yaml", limits=yamlio.Limits(max_depth=2))


@pytest.mark.parametrize(("value", "plain"), [("1.2.3", True), ("v1", True), ("1e_3", False), ("yes", False),
                                               ("0o17", False), ("1_000", False), ("web", True)])
def test_a_value_stays_plain_only_when_every_reader_sees_a_string(value: str, plain: bool) -> None:
    assert yamlio.stays_a_string(value) is plain


def test_located_data_expands_merge_keys_as_the_manifest_loader_does() -> None:
    text = ("base: &b {x: 1, w: 1}\nother: &o {w: 2, z: 2}\n"
            "m:\n  <<: [*b, *o]\n  z: 3\n  k: on\n")
    (document,) = yamlio.compose_all(text, display="t", limits=yamlio.Limits())
    located = yamlio.to_located(document)
    (loaded,) = yamldocs.load_exact(text, "t").docs
    assert located == loaded.data == {**loaded.data, "m": {"x": 1, "w": 1, "z": 3, "k": True}}
    assert yamlio.line_of(located["m"], "z") == 5 and yamlio.line_of(located["m"], "x") == 1
