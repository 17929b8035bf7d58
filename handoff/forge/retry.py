"""Retry forge calls on 5xx and rate limits only, honouring ``Retry-After`` and ``X-RateLimit-Reset``.

Modelled on kopf's TemporaryError/PermanentError split: the error says whether and when to retry.
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from handoff.errors import (
    ForgeAuthError,
    ForgeConflict,
    ForgeError,
    ForgeNotFound,
    ForgeServerError,
)

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    base_delay: float = 1.0
    max_delay: float = 60.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.time


class RetryableForgeError(ForgeServerError):
    """A 5xx or rate-limit answer; ``delay`` is what the server asked for (None: use backoff)."""

    def __init__(self, message: str, *, status: int | None, delay: float | None) -> None:
        super().__init__(message, status=status)
        self.delay = delay


def _header(headers: Mapping[str, str] | None, name: str) -> str | None:
    if not headers:
        return None
    for key, value in headers.items():
        if key.lower() == name.lower():
            return str(value)
    return None


def server_delay(headers: Mapping[str, str] | None, now: float) -> float | None:
    """Seconds to wait per ``Retry-After`` (seconds or HTTP date) or ``X-RateLimit-Reset`` (epoch)."""
    retry_after = _header(headers, "Retry-After")
    if retry_after:
        if retry_after.strip().isdigit():
            return float(retry_after.strip())
        parsed = email.utils.parsedate_to_datetime(retry_after)
        return max(0.0, parsed.timestamp() - now)
    reset = _header(headers, "X-RateLimit-Reset") or _header(headers, "RateLimit-Reset")
    if reset and reset.strip().isdigit():
        value = float(reset.strip())
        return max(0.0, value - now) if value > 1e9 else value
    return None


def is_rate_limited(status: int, headers: Mapping[str, str] | None) -> bool:
    if status == 429:
        return True
    remaining = _header(headers, "X-RateLimit-Remaining") or _header(headers, "RateLimit-Remaining")
    return status == 403 and (remaining == "0" or _header(headers, "Retry-After") is not None)


def error_for(status: int, message: str, headers: Mapping[str, str] | None, now: float) -> ForgeError:
    """Map an HTTP status to a handoff error (branch on status codes, never on message text)."""
    if status >= 500 or is_rate_limited(status, headers):
        kind = "rate limited" if status < 500 else "server error"
        return RetryableForgeError(f"{kind} ({status}): {message}", status=status,
                                   delay=server_delay(headers, now))
    if status in (401, 403):
        hint = ("the token is missing, expired or invalid" if status == 401
                else "the token lacks permission for this repository/operation")
        return ForgeAuthError(f"forbidden ({status}): {hint}: {message}", status=status)
    if status == 404:
        return ForgeNotFound(f"not found (404): {message} (or the token cannot see it)", status=status)
    if status in (409, 422):
        return ForgeConflict(f"conflict ({status}): {message}", status=status)
    return ForgeError(f"forge error ({status}): {message}", status=status)


def with_retries(call: Callable[[], T], policy: RetryPolicy, what: str) -> T:
    """Run ``call``; retry only ``RetryableForgeError`` with server-given delay or jittered backoff."""
    for attempt in range(1, policy.attempts + 1):
        try:
            return call()
        except RetryableForgeError as e:
            if attempt == policy.attempts:
                raise ForgeServerError(f"{what}: giving up after {attempt} attempts: {e.message}",
                                       status=e.status) from e
            backoff = min(policy.max_delay, policy.base_delay * 2 ** (attempt - 1))
            delay = e.delay if e.delay is not None else random.uniform(0, backoff)  # noqa: S311
            delay = min(delay, policy.max_delay)
            log.warning("%s: %s; retrying in %.1fs (attempt %d/%d)", what, e.message, delay, attempt,
                        policy.attempts)
            policy.sleep(delay)
    raise AssertionError("unreachable")
