"""A multi-line plain scalar inside a flow collection puts its pieces next to YAML's flow indicators
(``,`` ``[`` ``]`` ``{`` ``}``); each piece is masked without taking the indicator, nested and on diff lines too,
and a value whose own words hold one of those characters is still masked piece by piece."""

from __future__ import annotations

import pytest

from handoff.manifests.sensitive import scrub

SHOWN = "<secret sha256:0badc0de changed>"
VALUE = "Tr0ub4dor&3-first-half second-half-kept-secret"


@pytest.mark.parametrize(("diff", "masked"), [
    ("+creds: {a: [{password: Tr0ub4dor&3-first-half\n+  second-half-kept-secret}], b: c}\n",
     f"+creds: {{a: [{{password: {SHOWN}\n+  {SHOWN}}}], b: c}}\n"),
    ("-creds: [x, Tr0ub4dor&3-first-half\n-  second-half-kept-secret,y]\n",
     f"-creds: [x, {SHOWN}\n-  {SHOWN},y]\n"),
    (" creds: {password: [Tr0ub4dor&3-first-half\n   second-half-kept-secret]}\n",
     f" creds: {{password: [{SHOWN}\n   {SHOWN}]}}\n"),
], ids=["nested-mapping-in-sequence", "sequence-with-neighbours", "sequence-in-mapping"])
def test_pieces_beside_flow_indicators_are_masked_and_the_indicators_stay(diff: str, masked: str) -> None:
    assert scrub(diff, {VALUE: SHOWN}) == masked


def test_a_value_whose_words_hold_a_comma_is_masked_piece_by_piece() -> None:
    value = "alpha,bravo-charlie-delta echo-foxtrot-golf"
    diff = "+key: >-\n+  alpha,bravo-charlie-delta\n+  echo-foxtrot-golf\n"
    assert scrub(diff, {value: SHOWN}) == f"+key: >-\n+  {SHOWN}\n+  {SHOWN}\n"
