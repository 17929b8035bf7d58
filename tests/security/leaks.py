"""The one search for leaked values: a value in any form a template, a log or a header could give it,
and where in a set of collected texts any of those forms appears.

Helm offers ``b64enc``, ``b32enc`` and hex-ish printf forms. A value inside a bigger blob (a whole
``/proc/self/environ``) is encoded at any byte offset, so for values long enough not to match by chance
base64 and base32 are also searched at every alignment (the characters only the value's bytes decide).
Hex and base32 are searched in either case.
"""

from __future__ import annotations

import base64
import binascii
import urllib.parse
from collections.abc import Callable, Mapping, Sequence

_Encoder = Callable[[bytes], bytes]
_BLOCKS: tuple[tuple[str, _Encoder, int, int], ...] = (
    # name, encoder, bytes per group, characters per group
    ("base64", base64.b64encode, 3, 4),
    ("base64url", base64.urlsafe_b64encode, 3, 4),
    ("base32", base64.b32encode, 5, 8),
)
_SHIFTED_FROM = 16  # shorter values would match by chance once cut to an alignment


def leak_forms(value: str) -> dict[str, str]:
    """``value`` as it could leak: raw, URL-encoded, base64 (also unpadded), base32, hex, and for long
    values base64/base64url/base32 at every byte alignment."""
    raw = value.encode()
    b64 = base64.b64encode(raw).decode()
    hexed = binascii.hexlify(raw).decode()
    forms = {"raw": value, "url": urllib.parse.quote(value, safe=""), "base64": b64,
             "base64 unpadded": b64.rstrip("="), "base32": base64.b32encode(raw).decode().rstrip("="),
             "hex": hexed, "HEX": hexed.upper()}
    if len(raw) >= _SHIFTED_FROM:
        for name, encode, group, chars in _BLOCKS:
            for offset in range(group):
                encoded = encode(b"\0" * offset + raw).decode()
                start, end = -(-offset // group) * chars, (offset + len(raw)) // group * chars
                forms[f"{name}@{offset}"] = encoded[start:end]
    return forms


def leaks(texts: Mapping[str, str], values: Sequence[str]) -> list[tuple[str, str, str]]:
    """(where, which value, which form) of every appearance of ``values`` in ``texts``; ``[]`` when clean."""
    found = []
    for value in values:
        for form, shown in leak_forms(value).items():
            folded = form.lower().startswith(("hex", "base32"))  # case carries no information there
            for where, text in texts.items():
                haystack, needle = (text.upper(), shown.upper()) if folded else (text, shown)
                if needle in haystack:
                    found.append((where, value, form))
    return found
