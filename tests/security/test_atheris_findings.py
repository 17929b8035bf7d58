"""Regressions for inputs atheris found (tests/security/fuzz_*.py), kept as plain tests so they run in `make test`."""

from __future__ import annotations

import pytest

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
