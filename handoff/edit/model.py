"""What an edit reports: one changed value."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Change:
    """``key`` is the dotted path of the value in ``file``; ``old`` is ``""`` for an added key."""

    file: str
    line: int
    key: str
    old: str
    new: str
