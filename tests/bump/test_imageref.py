"""Image references per the OCI distribution grammar: what users write must parse, bad input must not."""

from __future__ import annotations

import pytest

from handoff.errors import ImageRefError
from handoff.imageref import parse

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize(("text", "registry", "repository", "tag", "digest"), [
    ("nginx", "", "nginx", None, None),
    ("nginx:1.25", "", "nginx", "1.25", None),
    ("library/nginx:latest", "", "library/nginx", "latest", None),
    ("ghcr.io/acme/web:1.4.2", "ghcr.io", "acme/web", "1.4.2", None),
    (f"ghcr.io/acme/team/web:1.4.2@{DIGEST}", "ghcr.io", "acme/team/web", "1.4.2", DIGEST),
    (f"localhost:5000/web@{DIGEST}", "localhost:5000", "web", None, DIGEST),
    ("127.0.0.1:5000/a/b:v1_2-3.x", "127.0.0.1:5000", "a/b", "v1_2-3.x", None),
    ("[::1]:5000/web:1", "[::1]:5000", "web", "1", None),
    ("registry.example.com/a__b/c--d:T", "registry.example.com", "a__b/c--d", "T", None),
])
def test_parse_keeps_what_was_written(text: str, registry: str, repository: str, tag: str | None,
                                      digest: str | None) -> None:
    ref = parse(text)
    assert (ref.registry, ref.repository, ref.tag, ref.digest) == (registry, repository, tag, digest)
    assert str(ref) == text


@pytest.mark.parametrize(("text", "canonical", "familiar"), [
    ("nginx:1", "docker.io/library/nginx:1", "nginx:1"),
    ("docker.io/nginx:1", "docker.io/library/nginx:1", "nginx:1"),
    ("index.docker.io/library/nginx", "docker.io/library/nginx", "nginx"),
    ("bitnami/nginx:1", "docker.io/bitnami/nginx:1", "bitnami/nginx:1"),
    ("ghcr.io/acme/web:2", "ghcr.io/acme/web:2", "ghcr.io/acme/web:2"),
    ("docker.io/a.b/c:1", "docker.io/a.b/c:1", "docker.io/a.b/c:1"),
])
def test_normalisation(text: str, canonical: str, familiar: str) -> None:
    ref = parse(text)
    assert ref.canonical == canonical
    assert ref.familiar == familiar


def test_same_repository_ignores_docker_hub_spelling() -> None:
    assert parse("nginx:1").same_repository(parse("docker.io/library/nginx:2"))
    assert not parse("nginx:1").same_repository(parse("ghcr.io/nginx:1"))


@pytest.mark.parametrize(("text", "why"), [
    ("", "empty"),
    ("Nginx/web:1", "lowercase"),
    ("ghcr.io/Acme/web:1", "path component 'Acme'"),
    ("web:.hidden", "tag '.hidden'"),
    ("web:" + "a" * 129, "tag"),
    ("web@sha256:abc", "digest 'sha256:abc'"),
    ("web@sha256:" + "A" * 64, "sha256 digest is 64 lowercase hex"),
    ("web@sha256:" + "a" * 63, "sha256 digest is 64"),
    ("web@md5", "not algorithm:hex"),
    ("a b:1", "whitespace"),
    ("web//x:1", "path component ''"),
    ("-bad.io/web:1", "bad registry host"),
])
def test_invalid_references_say_why(text: str, why: str) -> None:
    with pytest.raises(ImageRefError) as caught:
        parse(text)
    assert why in str(caught.value)
    assert str(caught.value).startswith("invalid image reference")
