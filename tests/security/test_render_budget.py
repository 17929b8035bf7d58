"""The render budget's two measures (``handoff.manifests.bounds``): the node count charged before a text is
parsed must never undercount what the parser builds, and the total-size count must equal compact JSON."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from handoff.manifests.bounds import compact_json_size, written_nodes

TEXTS = ["a: b\n", "a:\n  b:\n    c: 1\n", "- - - a\n", "x: [1, [2, {}], {a: [], b: {c: d}}]\n",
         "? a\n: b\n", "a: |\n  one: two\n  three\n", "---\na: 1\n---\n- x\n- y\n", "k: 'a, b: c'\n", "[]\n"]


def _nodes(node: yaml.Node) -> int:
    if isinstance(node, yaml.MappingNode):
        return 1 + sum(_nodes(k) + _nodes(v) for k, v in node.value)
    if isinstance(node, yaml.SequenceNode):
        return 1 + sum(_nodes(item) for item in node.value)
    return 1


@pytest.mark.parametrize("text", TEXTS)
def test_written_nodes_never_undercounts(text: str) -> None:
    parsed = sum(_nodes(doc) for doc in yaml.compose_all(text, Loader=yaml.SafeLoader) if doc is not None)
    assert written_nodes(text) >= parsed


DATA: list[Any] = [{}, [], {"a": [1, 2.5, None, True, False, 'x"é\n']}, [[], [{}]], {"k": {"z": []}},
                   1e300, -3, "plain", {"a": 1, "b": {}}]


@pytest.mark.parametrize("data", DATA, ids=str)
def test_compact_json_size_is_the_length_of_compact_json(data: Any) -> None:
    assert compact_json_size(data, 10**9) == len(json.dumps(data, separators=(",", ":"), default=str))


def test_compact_json_size_stops_past_the_cap_on_aliased_data() -> None:
    shared = "x" * 1024
    aliased = [[shared] * 1000] * 1000  # 1 GB of JSON, a few KB of memory
    assert 100 < compact_json_size(aliased, 100) < 10_000
