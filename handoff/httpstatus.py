"""The HTTP side of the retry policy (``handoff.retry``): which answers of a forge's API are worth another
try. Shared by ``forge/`` (PRs and MRs) and ``commitstatus/`` (deployment results), which may not import
each other.

5xx and rate limits are temporary, waiting as long as ``Retry-After`` / ``X-RateLimit-Reset`` say;
every other status is permanent and maps to its own error (branch on status codes, never on text).
The one exception: GitHub may answer a secondary rate limit as a bare 403 whose only sign is its error
message ("You have exceeded a secondary rate limit"), and documents "otherwise, wait for at least one
minute" (REST API docs, "Troubleshooting the REST API", "Rate limit errors").
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from handoff.errors import (
    ForgeAuthError,
    ForgeConflict,
    ForgeError,
    ForgeNotFound,
    ForgeServerError,
    HandoffError,
)
from handoff.retry import TemporaryError, header, server_delay

SECONDARY_RATE_LIMIT = re.compile(r"secondary rate limit", re.IGNORECASE)
SECONDARY_RATE_LIMIT_DELAY = 60.0  # GitHub: "wait for at least one minute" when no header says more


class RetryableForgeError(TemporaryError):
    """A 5xx or rate-limit answer; once the attempts are used up it becomes a ``ForgeServerError``."""

    def __init__(self, message: str, *, status: int | None, delay: float | None) -> None:
        super().__init__(message, delay=delay)
        self.status = status

    def giving_up(self, what: str, attempts: int) -> HandoffError:
        return ForgeServerError(self.exhausted_message(what, attempts), status=self.status)


def is_rate_limited(status: int, headers: Mapping[str, str] | None, message: str = "") -> bool:
    if status == 429:
        return True
    remaining = header(headers, "X-RateLimit-Remaining") or header(headers, "RateLimit-Remaining")
    return status == 403 and (remaining == "0" or header(headers, "Retry-After") is not None
                              or is_secondary_rate_limit(status, message))


def is_secondary_rate_limit(status: int, message: str) -> bool:
    return status in (403, 429) and bool(SECONDARY_RATE_LIMIT.search(message))


def error_for(status: int, message: str, headers: Mapping[str, str] | None,
              now: float) -> ForgeError | RetryableForgeError:
    """Map an HTTP status to a handoff error: temporary (5xx, rate limit) or a permanent ``ForgeError``."""
    if status >= 500 or is_rate_limited(status, headers, message):
        kind = "rate limited" if status < 500 else "server error"
        delay = server_delay(headers, now)
        if delay is None and is_secondary_rate_limit(status, message):
            delay = SECONDARY_RATE_LIMIT_DELAY
        return RetryableForgeError(f"{kind} ({status}): {message}", status=status, delay=delay)
    if status in (401, 403):
        hint = ("the token is missing, expired or invalid" if status == 401
                else "the token lacks permission for this repository/operation")
        return ForgeAuthError(f"forbidden ({status}): {hint}: {message}", status=status)
    if status == 404:
        return ForgeNotFound(f"not found (404): {message} (or the token cannot see it)", status=status)
    if status in (409, 422):
        return ForgeConflict(f"conflict ({status}): {message}", status=status)
    return ForgeError(f"forge error ({status}): {message}", status=status)

