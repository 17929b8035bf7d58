"""One redaction layer for every text handoff emits: logs, errors, outputs and posted PR bodies.

Secrets are registered once (when a token is read) and replaced everywhere by ``***``.
"""

from __future__ import annotations

import base64
import logging
import re
import threading
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass

MASK = "***"
_MIN_SECRET_LEN = 4
_lock = threading.Lock()


@dataclass
class _Registry:
    secrets: set[str]
    pattern: re.Pattern[str] | None = None


_registry = _Registry(secrets=set())

# Credentials embedded in URLs (https://user:pass@host) are masked even when never registered.
_URL_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<userinfo>[^/@\s:]+(?::[^/@\s]*)?)@")
# Common token shapes, masked even if a caller forgot to register them.
_TOKEN_SHAPES = re.compile(
    r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|glpat-[A-Za-z0-9_\-]{20,})\b"
)
_AUTH_HEADER = re.compile(r"(?i)(authorization:\s*(?:bearer|basic|token)\s+)\S+")
# What each pattern cannot match without: a quick search for it spares a big text (a JSON report of
# thousands of objects) the full patterns, which try a match at nearly every character. The header's
# name is looked for in the lowered text: a regex of [Aa][Uu]... tries every character (24 ms on a
# 3.9 MB report, lower() and a find take 2 ms); lowering keeps every ASCII spelling of it contiguous.
_TOKEN_PREFIX = re.compile(r"gh[pousr]_|github_pat_|glpat-")
_AUTH_NAME = "authorization:"


def register(secret: str | None) -> None:
    """Remember ``secret`` so that every later :func:`redact` masks it (and its common encodings)."""
    if not secret or len(secret) < _MIN_SECRET_LEN:
        return
    variants = {secret, urllib.parse.quote(secret, safe=""), base64.b64encode(secret.encode()).decode()}
    with _lock:
        _registry.secrets.update(v for v in variants if len(v) >= _MIN_SECRET_LEN)
        alternatives = sorted(_registry.secrets, key=len, reverse=True)
        _registry.pattern = re.compile("|".join(re.escape(s) for s in alternatives))


def registered() -> frozenset[str]:
    """Every registered secret and encoding of one: for a layer that masks them in structured data
    before it is serialised (``manifests.sensitive``), where an escape would hide them from ``redact``."""
    with _lock:
        return frozenset(_registry.secrets)


def redact(text: str) -> str:
    """Return ``text`` with every registered secret, URL credential and known token shape masked."""
    if not text:
        return text
    pattern = _registry.pattern
    if pattern is not None:
        text = pattern.sub(MASK, text)
    if "://" in text:
        text = _URL_USERINFO.sub(lambda m: f"{m.group('scheme')}{MASK}@", text)
    if _TOKEN_PREFIX.search(text):
        text = _TOKEN_SHAPES.sub(MASK, text)
    if _AUTH_NAME in text.lower():
        text = _AUTH_HEADER.sub(lambda m: f"{m.group(1)}{MASK}", text)
    return text


def mask_values(text: str, values: Iterable[str]) -> str:
    """``text`` with each of ``values`` (of at least 4 characters) masked raw, URL-encoded, base64
    (padded or not), base32 and hex: for a message that may quote what a config repo declares (a
    renderer's error quoting a chart value), without registering those values for every later text."""
    forms: set[str] = set()
    for value in values:
        # every encoded form is at least as long as the value: one longer than the text cannot be in it (a
        # 15 MiB generator file's forms would take ~300 MiB to build); only forms the text holds are kept
        if _MIN_SECRET_LEN <= len(value) <= len(text):
            forms.update(form for form in encoded_forms(value) if form in text)
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, MASK)
    return text


def encoded_forms(value: str) -> set[str]:
    """``value`` raw, URL-encoded (``%20``, and ``+`` as Helm's ``urlquery`` writes a space), base64 and
    URL-safe base64 (padded or not), base32 and hex (both cases): the forms a template or a policy can
    print it in with one function call (an unpadded form is a prefix of the padded one, so masking it
    masks both)."""
    raw = value.encode()
    b64 = base64.b64encode(raw).decode()
    b64url = base64.urlsafe_b64encode(raw).decode()
    b32 = base64.b32encode(raw).decode().rstrip("=")
    return {value, urllib.parse.quote(value, safe=""), urllib.parse.quote_plus(value, safe=""), b64,
            b64.rstrip("="), b64url, b64url.rstrip("="), b32, b32.lower(), raw.hex(), raw.hex().upper()}


def forget_all() -> None:
    """Drop every registered secret (tests only)."""
    with _lock:
        _registry.secrets.clear()
        _registry.pattern = None


class RedactingFilter(logging.Filter):
    """A logging filter that redacts the rendered message of every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True
