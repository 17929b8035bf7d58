"""atk19d: the retry policy's server delays (Retry-After) against ``handoff wait``'s deadline
(retry.bounded_by) and against garbled headers. Fails today (see /work/scratch/atk19d-report.md)."""

from __future__ import annotations

import pytest

from handoff.errors import HandoffError
from handoff.httpstatus import RetryableForgeError, error_for
from handoff.retry import RetryPolicy, bounded_by, retry

NOW = 1_800_000_000.0


def _policy(sleeps: list[float]) -> RetryPolicy:
    return RetryPolicy(attempts=5, base_delay=1.0, max_delay=60.0, sleep=sleeps.append, clock=lambda: NOW,
                       rand=lambda: 0.0)


def test_a_retry_after_past_the_deadline_gives_up_even_when_it_is_over_max_delay() -> None:
    """GitHub answers 429 Retry-After: 3600 (an hour). `handoff wait --timeout 300` has 300 s left: the
    server's delay does not fit, so bounded_by promises to give up at once. retry_counted compares the
    delay *capped at max_delay* (60 s) with the deadline instead, so it sleeps 60 s and calls the
    rate-limited API again, four times, each answered 429 (GitHub may ban an integration that keeps
    calling while limited) and wait spends its whole timeout on retries the server said were useless."""
    sleeps: list[float] = []
    calls = [0]

    def rate_limited() -> str:
        calls[0] += 1
        raise error_for(429, "API rate limit exceeded", {"Retry-After": "3600"}, NOW)

    with bounded_by(lambda: 300.0 - sum(sleeps)), pytest.raises(HandoffError, match="giving up"):
        retry(rate_limited, _policy(sleeps), what="read combined commit status")
    assert sleeps == [] and calls[0] == 1, (
        f"the server asked for 3600 s and the deadline is 300 s away: giving up at once should hold, but "
        f"it slept {sleeps} and called {calls[0]} times")


@pytest.mark.parametrize("name", ["Retry-After", "X-RateLimit-Reset"])
@pytest.mark.parametrize("value", ["\u00b2", "\u00b9\u00b3"])
def test_a_garbled_rate_limit_header_falls_back_to_the_backoff(name: str, value: str) -> None:
    """http.client (under requests) decodes header bytes as ISO-8859-1, so a proxy's stray byte 0xB2 in
    Retry-After arrives as '²'. server_delay promises that a garbled header falls back to the backoff and
    does not fail the call; but '²'.isdigit() is True and float('²') raises ValueError, which escapes
    error_for (not a HandoffError: a traceback out of the forge call, the reconciler's status post, or
    `handoff wait`)."""
    try:
        error = error_for(429, "rate limited", {name: value}, NOW)
    except ValueError as e:
        pytest.fail(f"{name}: {value!r} should fall back to the backoff (delay None), but raised {e!r}")
    assert isinstance(error, RetryableForgeError) and error.delay is None
