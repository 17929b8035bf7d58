"""atk18f: docs/reconciler.md says the free-text fields that reach argv refuse C1 controls, line
separators and the bidi and zero-width format characters, "`url` and `revision` by their patterns", at
admission and in the parser alike ("one pattern"). ``sourcecrd._GIT_URL`` only excludes ``\\s``, C0 and
DEL: a ``url`` carrying U+202E (RIGHT-TO-LEFT OVERRIDE: the URL a reviewer reads in the manifest is not
the one fetched), U+200B or U+009B (CSI) is stored by the API server and accepted by the parser. And
``\\s`` is not one set: RE2 (the API server) reads it as ASCII whitespace, Python's ``re`` as every
Unicode space, so a URL with U+00A0 is admitted and then refused by the parser: the schema and the parser
disagree on one field. Real kube-apiserver + etcd."""

from __future__ import annotations

import re

import pytest

from handoff.errors import ConfigError
from handoff.kube.client import KubeError
from handoff.reconciler.sourcecrd import SPEC, Field, check

from .cluster import Cluster
from .test_source_crd_live import cluster, source_object  # noqa: F401 - fixture

pytestmark = [pytest.mark.tools, pytest.mark.slow]

HIDDEN = {"rlo": "\u202e", "zwsp": "\u200b", "csi": "\u009b", "lre": "\u202a"}


def _admitted(c: Cluster, name: str, url: str) -> bool:
    try:
        c.client.create(source_object(c, name, url=url))
    except KubeError as e:
        assert e.status == 422, e
        return False
    return True


def _parsed(url: str) -> bool:
    try:
        check({"url": url})
    except ConfigError:
        return False
    return True


def test_a_url_with_bidi_zero_width_or_c1_characters_is_refused(cluster: Cluster) -> None:  # noqa: F811
    c = cluster
    got = {}
    for label, ch in HIDDEN.items():
        url = f"https://git.example.com/org/{ch}lmay.gifnoc/config.git"
        got[label] = (_admitted(c, f"u-{label}", url), _parsed(url))
    assert all(v == (False, False) for v in got.values()), \
        ("a Source url holding a bidi, zero-width or C1 character is refused by the CRD's schema and by the "
         f"parser, as docs/reconciler.md says of url; (admitted, parsed) per character: {got}")


def test_the_schema_and_the_parser_agree_on_a_url(cluster: Cluster) -> None:  # noqa: F811
    c = cluster
    got = {}
    for label, ch in {"nbsp": "\u00a0", "em-space": "\u2003", "ideographic-space": "\u3000"}.items():
        url = f"https://git.example.com/org/con{ch}fig.git"
        got[label] = (_admitted(c, f"s-{label}", url), _parsed(url))
    assert all(a == p for a, p in got.values()), \
        ("the CRD's schema (RE2 at the API server) and the parser (Python re) read url's pattern alike: one "
         f"refuses what the other accepts; (admitted, parsed) per character: {got}")


def _patterns(fields: tuple[Field, ...]) -> list[tuple[str, str]]:
    out = []
    for f in fields:
        out += [(f.name, p) for p in (f.pattern, f.item_pattern) if p]
        out += _patterns(f.fields)
    return out


def test_no_spec_pattern_uses_a_class_the_two_engines_read_differently() -> None:
    # \s, \w, \d (and their negations) are ASCII to RE2 and Unicode to Python's re on str
    shorthand = [(name, p) for name, p in _patterns(SPEC) if re.search(r"(?<!\\)\\[sSwWdD]", p)]
    assert not shorthand, f"patterns read differently by RE2 and Python: {shorthand}"
