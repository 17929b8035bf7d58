"""Positions are composed per document, from that document's span only: they must equal what
composing the whole text gives, for every document, on every shape of stream (and a text that cannot
be cut where PyYAML cuts it is composed whole)."""

from __future__ import annotations

from pathlib import Path

import pytest

from handoff.manifests.fastyaml import splittable
from handoff.manifests.yamldocs import FilePositions, document_positions

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "manifests"

SHAPES = [
    "a: 1\n---\n",
    "---\n---\na: 1\n",
    "# head\n---\na: [1,\n  2]\n--- |\n  text\n---\nb: 2",
    "a: 1\r\n---\r\nb:\r\n  c: 2\r\n",
    "---\n", "", "# only a comment\n",
    "- a\n- b\n---\n- c\n",
    "a: 1\n--- # marker comment\nb: 2\n---\n\n\nc: {d: 1}\n",
    "items:\n  - kind: A\n    x: 1\n---\nkind: List\nitems:\n  - {kind: B, y: [1, 2]}\n",
    "%YAML 1.1\n---\na: 1\n...\n%YAML 1.1\n---\nb: 2\n",  # directives: composed whole
    "a: 1\r---\rb: 2\r",  # CR line breaks: composed whole
    "a: 1\n---\nb: [unclosed\n---\nc: 3\n",  # an error mid-stream
]


def corpus_texts() -> list[str]:
    return [p.read_text(encoding="utf-8") for p in sorted(CORPUS.rglob("*")) if p.is_file()] if CORPUS.is_dir() else []


@pytest.mark.parametrize("text", SHAPES + corpus_texts())
def test_per_document_positions_equal_the_whole_composition(text: str) -> None:
    whole = document_positions(text)
    positions = FilePositions(text)
    upto = len(whole) if "[unclosed" not in text else 1  # after an error the whole text has none
    for index in range(upto + 1):
        assert dict(positions.for_document(index)) == (whole[index] if index < len(whole) else {})


def test_unusual_texts_are_not_cut() -> None:
    assert splittable("a: 1\n---\nb: 2\r\n")
    for text in ("%YAML 1.1\n---\na: 1\n", "a: 1\n...\n", "a: 1\r---\r", "\ufeffa: 1", "a: 1\u2028---\u2028"):
        assert not splittable(text)


def test_a_finding_deep_in_a_stream_composes_only_its_document(tmp_path: Path) -> None:
    docs = [f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{i}\ndata:\n  k: v\n" for i in range(200)]
    docs[150] = docs[150].replace("data:\n  k: v\n", "data:\n  k: v\n  bad: [1, 2]\n")
    text = "---\n" + "---\n".join(docs)
    positions = FilePositions(text).for_document(150)
    assert positions["data.bad"] == (150 * 7 + 8, 3)  # 7 lines a document with its "---"
    assert positions == document_positions(text)[150]
