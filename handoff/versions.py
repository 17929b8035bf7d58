"""Ordering image tags: semver (with an optional ``v``) where both sides are semver, else unknown.

Used so a rolling branch never moves to a lower version than it already holds.
"""

from __future__ import annotations

import re

_SEMVER = re.compile(
    r"^v?(?P<major>0|[1-9]\d*)(?:\.(?P<minor>0|[1-9]\d*))?(?:\.(?P<patch>0|[1-9]\d*))?"
    r"(?:-(?P<pre>[0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$"
)

Key = tuple[int, int, int, tuple[tuple[int, int | str], ...]]


def semver_key(tag: str | None) -> Key | None:
    """A sortable key for a semver-like tag (``1.2``, ``v1.2.3-rc.1``); ``None`` if not semver."""
    if not tag:
        return None
    m = _SEMVER.match(tag)
    if not m:
        return None
    pre: tuple[tuple[int, int | str], ...]
    if m["pre"] is None:
        pre = ((2, 0),)  # a release sorts after all of its pre-releases
    else:
        pre = tuple((0, int(p)) if p.isdigit() else (1, p) for p in m["pre"].split("."))
    return (int(m["major"]), int(m["minor"] or 0), int(m["patch"] or 0), pre)


def is_downgrade(current: str | None, proposed: str | None) -> bool:
    """True only when both tags are semver and ``proposed`` is strictly lower."""
    a, b = semver_key(current), semver_key(proposed)
    return a is not None and b is not None and b < a
