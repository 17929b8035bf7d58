"""The one retry policy: bounded attempts, exponential backoff with jitter, and server-given delays.

A step says whether another try can help by raising :class:`TemporaryError` (with the delay the server
asked for, if it said one); any other error is permanent and propagates at once. Modelled on kopf's
TemporaryError/PermanentError split. Forge calls, git network commands, propose's fetch-edit-push loop
and the reconciler's pass backoff all use this module; each maps its own failures to the split.
"""

from __future__ import annotations

import email.utils
import logging
import random
import re
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TypeVar

from handoff.errors import HandoffError

log = logging.getLogger(__name__)
# not str.isdigit(): it accepts '²' (a Latin-1 byte 0xB2 as http.client decodes it), which float() refuses
_ASCII_DIGITS = re.compile(r"[0-9]+")
T = TypeVar("T")
_MAX_EXPONENT = 60  # 2**60 s is already far past any max_delay; a larger exponent overflows a float
# seconds left before the caller's deadline (see ``bounded_by``); None: no deadline
_REMAINING: ContextVar[Callable[[], float] | None] = ContextVar("handoff_retry_remaining", default=None)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to wait. ``jitter`` is the fraction of each backoff window drawn at
    random (1.0: anywhere in [0, window], so racing clients spread out; 0.0: exactly the window).
    ``sleep``, ``clock`` (wall time, for reset timestamps) and ``rand`` are injectable for tests."""

    attempts: int = 5
    base_delay: float = 1.0
    max_delay: float = 60.0
    jitter: float = 1.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.time
    rand: Callable[[], float] = random.random

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"a retry policy needs at least one attempt, not {self.attempts}")
        if not 0.0 <= self.jitter <= 1.0:
            raise ValueError(f"jitter is a fraction between 0 and 1, not {self.jitter}")

    def backoff(self, attempt: int) -> float:
        """The wait after failed attempt ``attempt`` (1-based) when the server named no delay."""
        window = min(self.max_delay, self.base_delay * 2.0 ** min(max(attempt - 1, 0), _MAX_EXPONENT))
        return window * (1.0 - self.jitter * self.rand())

    def delay(self, attempt: int, error: TemporaryError) -> float:
        """The server's delay when it gave one, else the backoff; never more than ``max_delay``."""
        wanted = error.delay if error.delay is not None else self.backoff(attempt)
        return min(max(wanted, 0.0), self.max_delay)


class TemporaryError(HandoffError):
    """Another attempt may succeed; ``delay`` is what the server asked for (None: use the backoff).

    Subclasses choose the permanent error raised once the attempts are used up (:meth:`giving_up`)."""

    log_level = logging.WARNING

    def __init__(self, message: str, *, delay: float | None = None) -> None:
        super().__init__(message)
        self.delay = delay

    def exhausted_message(self, what: str, attempts: int) -> str:
        return f"{what}: giving up after {attempts} attempts: {self.message}"

    def giving_up(self, what: str, attempts: int) -> HandoffError:
        return HandoffError(self.exhausted_message(what, attempts))


@contextmanager
def bounded_by(remaining: Callable[[], float]) -> Iterator[None]:
    """Within the block, no retry sleeps past the caller's deadline (``remaining()``: seconds left, on
    the caller's clock): a retry whose delay does not fit gives up at once, as if out of attempts. The
    retries sit deep inside backends the caller only holds as a Protocol (``handoff wait``'s reads)."""
    token = _REMAINING.set(remaining)
    try:
        yield
    finally:
        _REMAINING.reset(token)


# a call never gets less than this, so one started just before the deadline can still answer "no"
_MIN_CALL_SECONDS = 1.0


def bounded_timeout(default: float) -> float:
    """A single call's timeout: ``default``, or less when a ``bounded_by`` deadline comes sooner, so a
    server that accepts and never answers cannot hold the caller past its deadline."""
    remaining = _REMAINING.get()
    if remaining is None:
        return default
    return min(default, max(remaining(), _MIN_CALL_SECONDS))


def retry_counted(call: Callable[[int], T], policy: RetryPolicy, *, what: str) -> T:
    """Run ``call(attempt)`` (attempt is 1-based) until it returns; retry only :class:`TemporaryError`,
    at most ``policy.attempts`` times in all (fewer when the wait would pass a ``bounded_by`` deadline),
    then raise the error's :meth:`~TemporaryError.giving_up`."""
    for attempt in range(1, policy.attempts + 1):
        try:
            return call(attempt)
        except TemporaryError as e:
            if attempt == policy.attempts:
                raise e.giving_up(what, attempt) from e
            delay = policy.delay(attempt, e)
            # the server's own delay, not the capped one, decides: a retry earlier than it asked fails again
            needed = max(delay, e.delay or 0.0)
            remaining = _REMAINING.get()
            if remaining is not None and needed > remaining():
                log.log(e.log_level, "%s: %s; not retrying in %.1fs: past the deadline", what, e.message,
                        needed)
                raise e.giving_up(what, attempt) from e
            log.log(e.log_level, "%s: %s; retrying in %.1fs (attempt %d/%d)", what, e.message, delay, attempt,
                    policy.attempts)
            policy.sleep(delay)
    raise AssertionError("unreachable")


def retry(call: Callable[[], T], policy: RetryPolicy, *, what: str) -> T:
    """:func:`retry_counted` for a call that does not need to know which attempt it is."""
    return retry_counted(lambda _attempt: call(), policy, what=what)


def header(headers: Mapping[str, str] | None, name: str) -> str | None:
    """The value of HTTP header ``name`` (case-insensitive), or None."""
    for key, value in (headers or {}).items():
        if key.lower() == name.lower():
            return str(value)
    return None


def server_delay(headers: Mapping[str, str] | None, now: float) -> float | None:
    """Seconds to wait per ``Retry-After`` (seconds or an HTTP date) or ``X-RateLimit-Reset`` /
    ``RateLimit-Reset`` (a Unix time, or seconds from now when small); None when there is none or it
    cannot be read (a garbled header falls back to the backoff, it does not fail the call)."""
    retry_after = (header(headers, "Retry-After") or "").strip()
    if retry_after:
        if _ASCII_DIGITS.fullmatch(retry_after):
            return float(retry_after)
        try:
            return max(0.0, email.utils.parsedate_to_datetime(retry_after).timestamp() - now)
        except (TypeError, ValueError, IndexError):
            return None
    reset = (header(headers, "X-RateLimit-Reset") or header(headers, "RateLimit-Reset") or "").strip()
    if _ASCII_DIGITS.fullmatch(reset):
        value = float(reset)
        return max(0.0, value - now) if value > 1e9 else value
    return None
