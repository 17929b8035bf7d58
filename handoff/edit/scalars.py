"""Render a new scalar value in the style of the one it replaces, never changing its type.

Helm reads values as YAML 1.1 (``1.10`` is a float, ``yes`` a bool) and Kubernetes tools as YAML 1.2,
so a plain (unquoted) value is only written plain when both resolve it as a string.
"""

from __future__ import annotations

import re

from handoff.errors import EditError
from handoff.manifests.yamlio import stays_a_string

# Conservative: characters that never need quoting in block or flow context, and no indicator first.
_PLAIN_SAFE = re.compile(r"[A-Za-z0-9_./][A-Za-z0-9_./:@+=-]*")
_DOUBLE_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def plain_is_string(value: str) -> bool:
    """True when ``value`` written unquoted reads back as the same string under YAML 1.1 and 1.2."""
    if not _PLAIN_SAFE.fullmatch(value) or value.endswith(":"):
        return False
    return stays_a_string(value)


def double_quoted(value: str) -> str:
    escaped = "".join(_DOUBLE_ESCAPES.get(c, c) for c in value)
    return f'"{escaped}"'


def single_quoted(value: str) -> str:
    if "\n" in value:
        return double_quoted(value)
    return "'" + value.replace("'", "''") + "'"


def render(value: str, style: str | None) -> str:
    """The source text for ``value`` written in ``style`` (None = plain, ``'``, ``"``)."""
    if style == '"':
        return double_quoted(value)
    if style == "'":
        return single_quoted(value)
    if style is None:
        return value if plain_is_string(value) else double_quoted(value)
    raise EditError(f"cannot rewrite a block scalar ({style}) in place")
