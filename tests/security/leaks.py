"""The one search for leaked values: a value as it could leak (raw, URL-encoded, base64, base32, hex),
and where in a set of collected texts any of those forms appears."""

from __future__ import annotations

import base64
import binascii
import urllib.parse


def leak_forms(value: str) -> dict[str, str]:
    """``value`` as it could leak: raw, URL-encoded, base64 (also unpadded), base32 and hex."""
    raw = value.encode()
    b64 = base64.b64encode(raw).decode()
    hexed = binascii.hexlify(raw).decode()
    return {"raw": value, "url": urllib.parse.quote(value, safe=""), "base64": b64,
            "base64 unpadded": b64.rstrip("="), "base32": base64.b32encode(raw).decode().rstrip("="),
            "hex": hexed, "HEX": hexed.upper()}


def leaks(texts: dict[str, str], values: list[str]) -> list[tuple[str, str, str]]:
    """(where, which value, which form) of every appearance of ``values`` in ``texts``."""
    return [(where, value, form) for value in values for form, shown in leak_forms(value).items()
            for where, text in texts.items() if shown in text]
