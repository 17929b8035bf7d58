"""Whether a drift path is sensitive (``manifests.sensitive.path_is_sensitive``) by a rule with ``*`` parts:
matched in linear time, with the answers of the backtracking regex it replaced (``.+?`` per star, which
took 18 s for four stars and a 400-part path)."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from handoff.manifests.sensitive import SensitiveField, _at_or_inside, path_is_sensitive


def _old(parts: list[str], path: str) -> bool:
    joined = r"\.".join(".+?" if p == "*" else re.escape(p) for p in parts)
    return re.match(joined + r"(?:[.\[]|$)", path) is not None


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", "*", "ab", "a[0]", "data"]), min_size=1, max_size=5),
       st.text(st.sampled_from("ab.[]0*d"), max_size=16))
def test_star_rules_match_as_the_old_regex_did(parts: list[str], path: str) -> None:
    assert _at_or_inside(parts, path) == _old(parts, path)


def test_a_many_star_rule_on_a_long_path_is_answered() -> None:
    rule = SensitiveField(kind="ConfigMap", path="data.*.*.*.*.zz")
    long_path = "data." + ".".join(["a"] * 100_000)
    assert not path_is_sensitive("ConfigMap", long_path, (rule,))
    assert path_is_sensitive("ConfigMap", long_path + ".zz", (rule,))
    assert path_is_sensitive("ConfigMap", long_path + ".zz.inner", (rule,))
