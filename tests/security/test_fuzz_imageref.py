"""Fuzz the image reference grammar: any text either parses to a reference that prints back as written, or
raises ImageRefError; nothing that parses can start a command-line option or carry whitespace/control text."""

from __future__ import annotations

import string

from hypothesis import given, settings
from hypothesis import strategies as st

from handoff.errors import ImageRefError
from handoff.imageref import ImageRef, parse

COMPONENT = st.from_regex(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+){0,2}", fullmatch=True)
HOST = st.sampled_from(["ghcr.io", "localhost", "localhost:5000", "registry.example:443", "[::1]:5000",
                        "a.b.c", "docker.io", "index.docker.io", "r-1.example"])
TAG = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}", fullmatch=True)
DIGEST = st.sampled_from(["sha256:" + "a" * 64, "sha512:" + "0" * 128, "sha256:" + "f1" * 32])
HOSTILE = st.text(alphabet=string.printable + "\x00\x85\u2028\ufeffé@:/-", max_size=80)


@st.composite
def valid_reference(draw: st.DrawFn) -> str:
    components = draw(st.lists(COMPONENT, min_size=1, max_size=3))
    host = draw(st.one_of(st.just(""), HOST))
    if not host and len(components) > 1 and ("." in components[0] or components[0] == "localhost"):
        host = "docker.io"  # otherwise the first component is (rightly) read as a registry host
    path = "/".join(components)
    text = f"{host}/{path}" if host else path
    if draw(st.booleans()):
        text += ":" + draw(TAG)
    if draw(st.booleans()):
        text += "@" + draw(DIGEST)
    return text


@settings(max_examples=300, deadline=None)
@given(valid_reference())
def test_valid_references_round_trip(text: str) -> None:
    try:
        ref = parse(text)
    except ImageRefError:
        assert len(text.split("@", maxsplit=1)[0].rsplit(":", 1)[0]) > 255  # only the length limit may refuse these
        return
    assert str(ref) == text
    assert parse(ref.canonical).canonical == ref.canonical
    assert parse(ref.familiar).canonical == ref.canonical


@settings(max_examples=600, deadline=None)
@given(st.one_of(HOSTILE, st.text(max_size=60), valid_reference().map(lambda s: s.upper())))
def test_any_text_parses_or_raises_image_ref_error(text: str) -> None:
    try:
        ref = parse(text)
    except ImageRefError as e:
        assert "\n" not in str(e)
        return
    assert isinstance(ref, ImageRef)
    _assert_safe(ref, text)


@settings(max_examples=300, deadline=None)
@given(valid_reference(), st.sampled_from(["-", "--", " ", "\t", "\n", "\x00", ";", "$(", "`", "'", "\\", "..",
                                           "%2e", "\u2028", "\ufeff"]),
       st.integers(min_value=0, max_value=100))
def test_injected_characters_never_survive(text: str, junk: str, at: int) -> None:
    at = at % (len(text) + 1)
    hostile = text[:at] + junk + text[at:]
    try:
        ref = parse(hostile)
    except ImageRefError:
        return
    _assert_safe(ref, hostile)


def _assert_safe(ref: ImageRef, text: str) -> None:
    assert str(ref) == text
    assert not text.startswith("-"), "a reference must never be able to pose as a command-line option"
    assert all(c.isprintable() and not c.isspace() for c in text)
    assert not any(c in text for c in ";$`'\"\\")
    assert ".." not in ref.repository.split("/")
