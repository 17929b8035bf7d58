"""Regressions for inputs atheris found (tests/security/fuzz_*.py), kept as plain tests so they run in `make test`."""

from __future__ import annotations

import pytest

from handoff.errors import ImageRefError
from handoff.imageref import parse


@pytest.mark.parametrize("text, familiar", [
    ("docker.io/library/brary/busybox:latest", "library/brary/busybox:latest"),  # was `brary/busybox`
    ("docker.io/library/nginx:1", "nginx:1"),
    ("index.docker.io/library/a/b/c", "library/a/b/c"),
])
def test_familiar_form_names_the_same_image(text: str, familiar: str) -> None:
    ref = parse(text)
    assert ref.familiar == familiar
    assert parse(ref.familiar).canonical == ref.canonical


def test_a_name_is_measured_in_its_canonical_form() -> None:
    """atheris: a 251-character familiar name parsed, but its canonical form (docker.io/ + it) did not."""
    familiar = "d/" + "r" * 247 + "/b"
    assert len(familiar) <= 255 < len("docker.io/" + familiar)
    with pytest.raises(ImageRefError, match=r"name longer than 255 characters as docker\.io/"):
        parse(familiar + ":1")
    ok = "d/" + "r" * 235 + "/b"
    assert parse(parse(ok).canonical).canonical == parse(ok).canonical
