"""The fast YAML path's safety scan (``handoff.manifests.fastyaml.risky``) is linear in its text and
classifies exactly what the quadratic pattern it replaced did. The old numeric-key rule, ``[^\\s:]*``
then the key's colon, rescanned the rest of a line from every digit of ``x: [1,1,...]`` (20,000 items
took 10 s); bench/bench_risky_scan.py measures the new scan on lines up to 1.44M items."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handoff.manifests import fastyaml

_OLD_NUMERIC_KEY_REST = r"[^\s:]*[ \t]*:(?=[ \t]|$)"


def _old_pattern() -> re.Pattern[str]:
    rules = [(first, before, _OLD_NUMERIC_KEY_REST if rest == fastyaml._NUMERIC_KEY_REST else rest)
             for first, before, rest in fastyaml.RULES]
    assert any(rest == _OLD_NUMERIC_KEY_REST for _, _, rest in rules)
    return fastyaml.compile_rules(rules)


OLD = _old_pattern()
# The characters every rule turns on, a few letters, and the line breaks \s knows but YAML's "$" does not.
_ALPHABET = st.sampled_from([*"0123456789-+.~_:,[]{}() \t\nabexyYnNtTfFuls#?!&*'\"", "\r", "\x85", "\u2028"])


def _old_risky(text: str) -> bool:
    return OLD.search("\n" + text) is not None


@settings(max_examples=3000, deadline=None)
@given(st.text(_ALPHABET, max_size=40))
def test_the_linear_scan_agrees_with_the_old_pattern(text: str) -> None:
    assert fastyaml.risky(text) == _old_risky(text)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(["1", "-1.5", "~", "a", "[1", "{2", "1]", "}", "", " "]), max_size=30),
       st.sampled_from([",", ", ", ",[", "]", ":"]), st.sampled_from(["", ":", ": ", " :", ":x", "]:"]))
def test_flow_lines_of_numbers_agree_with_the_old_pattern(items: list[str], sep: str, end: str) -> None:
    text = "x: [" + sep.join(items) + end + "\n"
    assert fastyaml.risky(text) == _old_risky(text)


@pytest.mark.parametrize(("line", "expected"), [
    ("x: [" + ",".join(["1"] * 1_000_000) + "]\n", False),       # issue 13's shape: a value, not a key
    ("x: [" + ",".join(["1"] * 1_000_000) + "]: y\n", True),     # the same run ending in a key's colon
    ("- " + "1." * 1_000_000 + "\n", False),
    ("x: [" + ",".join(["-1.5"] * 250_000) + "]\n", False),
    ("{" + ",".join(["a"] * 1_000_000) + ",7: b}\n", True),      # the numeric key is the last of a run
], ids=["flow-values", "flow-key", "dotted", "signed-floats", "last-key-numeric"])
def test_a_million_item_flow_line_is_classified(line: str, expected: bool) -> None:
    # the old pattern took minutes on these; it gives the same answers on their 3-item forms
    assert fastyaml.risky(line) is expected
    short = re.sub(r"((?:-1\.5|1|a)[,.])\1{3,}", r"\1\1\1", line)
    assert len(short) < 100
    assert _old_risky(short) is expected
