"""f18c: what a terminal would act on or hide is escaped in status text (``status.printable``) and
refused in a Source's free-text spec fields (``sourcecrd._PRINTABLE``, one pattern for the API server's
RE2 and the parser's re)."""

from __future__ import annotations

import pytest

from handoff.errors import ConfigError
from handoff.reconciler.sourcecrd import _UNPRINTABLE, check
from handoff.reconciler.status import clip, printable

FORMAT = "\u202a\u202e\u2066\u2067\u2068\u2069\u200b\u200e\u200f\ufeff\u061c\u2028\u2029"


def test_printable_escapes_bidi_zero_width_and_separators_and_keeps_tab_newline_and_letters() -> None:
    assert printable("x\u202eReady\u2067 ok") == "x\\u202eReady\\u2067 ok"
    assert printable("\U000e0001tag") == "\\U000e0001tag"
    assert printable("a\tb\nc é 日本 ✓") == "a\tb\nc é 日本 ✓"
    assert not any(ch in printable(FORMAT) for ch in FORMAT)
    assert not any(ch in clip(FORMAT) for ch in FORMAT)


def test_every_character_the_crd_refuses_is_one_printable_escapes() -> None:
    for lo, hi in _UNPRINTABLE:
        for code in range(lo, hi + 1):
            if chr(code) not in "\t\n":
                assert printable(chr(code)) != chr(code), hex(code)


@pytest.mark.parametrize("field,value", [("path", "app\u202e"), ("env", "prod\u200b"), ("release", "r\x85"),
                                         ("values", ["v\u2066.yaml"]), ("path", "a\u2028b")])
def test_the_parser_refuses_c1_bidi_zero_width_and_separators(field: str, value: object) -> None:
    with pytest.raises(ConfigError) as refused:
        check({"url": "https://git.example/r.git", field: value})
    assert str(refused.value).startswith(f"at {field}: {field} ")


def test_the_parser_keeps_ordinary_unicode_text() -> None:
    check({"url": "https://git.example/r.git", "path": "apps/café 日本", "values": ["é.yaml"]})
