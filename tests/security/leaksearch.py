"""The one leak search of the security tests: a secret in any form a template or a log could give it.

Helm offers ``b64enc``, ``b32enc`` and hex-ish printf forms; a secret inside a bigger blob (a whole
``/proc/self/environ``) is encoded at any byte offset, so base64 and base32 are searched at every
alignment (the characters that only the secret's bytes determine), hex in either case.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping

_Encoder = Callable[[bytes], bytes]
_BLOCKS: tuple[tuple[str, _Encoder, int, int, bool], ...] = (
    # name, encoder, bytes per group, characters per group, case-sensitive
    ("base64", base64.b64encode, 3, 4, True),
    ("base64url", base64.urlsafe_b64encode, 3, 4, True),
    ("base32", base64.b32encode, 5, 8, False),
)


def secret_forms(secret: str) -> dict[str, str]:
    """``{form name: text}``: the raw value, hex, and base64/base32 at every byte alignment."""
    raw = secret.encode()
    forms = {"raw": secret, "hex": raw.hex()}
    for name, encode, group, chars, _case in _BLOCKS:
        for offset in range(group):
            encoded = encode(b"\0" * offset + raw).decode()
            start, end = -(-offset // group) * chars, (offset + len(raw)) // group * chars
            forms[f"{name}@{offset}"] = encoded[start:end]
    return forms


def leaks(texts: Mapping[str, str], *secrets: str) -> list[tuple[str, str]]:
    """``(where, form)`` for every text holding any form of any secret; ``[]`` when clean."""
    found = []
    for secret in secrets:
        assert len(secret) >= 16, "a short secret would match by chance"
        for form, value in secret_forms(secret).items():
            folded = not form.startswith("base64")  # hex and base32 are searched in either case
            for where, text in texts.items():
                haystack, needle = (text.upper(), value.upper()) if folded else (text, value)
                if needle in haystack:
                    found.append((where, form))
    return found
