"""The one retry policy on a fake sleep and clock: what is retried, how long it waits, when it stops."""

from __future__ import annotations

import pytest

from handoff.errors import ForgeAuthError, ForgeConflict, ForgeNotFound, ForgeServerError, HandoffError
from handoff.forge.retry import RetryableForgeError, error_for
from handoff.retry import RetryPolicy, TemporaryError, bounded_by, retry, retry_counted, server_delay

NOW = 1_800_000_000.0


def policy(sleeps: list[float], **kw: object) -> RetryPolicy:
    fields: dict[str, object] = {"attempts": 4, "base_delay": 1.0, "max_delay": 30.0, "sleep": sleeps.append,
                                 "clock": lambda: NOW, "rand": lambda: 0.0}
    fields.update(kw)
    return RetryPolicy(**fields)  # type: ignore[arg-type]


class Flaky:
    """Fails with the given errors in turn, then answers "done"."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "done"


def test_temporary_errors_are_retried_with_exponential_backoff() -> None:
    sleeps: list[float] = []
    call = Flaky(TemporaryError("a"), TemporaryError("b"), TemporaryError("c"))
    assert retry(call, policy(sleeps), what="thing") == "done"
    assert call.calls == 4 and sleeps == [1.0, 2.0, 4.0]


def test_the_servers_delay_wins_over_the_backoff_but_not_over_the_cap() -> None:
    sleeps: list[float] = []
    call = Flaky(TemporaryError("slow down", delay=7.0), TemporaryError("much later", delay=3600.0))
    assert retry(call, policy(sleeps), what="thing") == "done"
    assert sleeps == [7.0, 30.0]


def test_permanent_errors_are_not_retried() -> None:
    sleeps: list[float] = []
    call = Flaky(HandoffError("no such thing"))
    with pytest.raises(HandoffError, match="no such thing"):
        retry(call, policy(sleeps), what="thing")
    assert call.calls == 1 and sleeps == []


def test_attempts_are_bounded_and_the_last_error_says_so() -> None:
    sleeps: list[float] = []
    call = Flaky(*[TemporaryError(f"try {i}") for i in range(10)])
    with pytest.raises(HandoffError, match=r"^thing: giving up after 4 attempts: try 3$") as caught:
        retry(call, policy(sleeps), what="thing")
    assert call.calls == 4 and len(sleeps) == 3
    assert isinstance(caught.value.__cause__, TemporaryError)
    assert not isinstance(caught.value, TemporaryError)  # a caller further up must not retry it again


def test_jitter_spreads_the_wait_below_the_window() -> None:
    full = RetryPolicy(base_delay=2.0, max_delay=60.0, rand=lambda: 0.75)
    assert full.backoff(3) == pytest.approx(8.0 * 0.25)
    slight = RetryPolicy(base_delay=2.0, max_delay=60.0, jitter=0.1, rand=lambda: 1.0)
    assert slight.backoff(3) == pytest.approx(8.0 * 0.9)
    assert RetryPolicy(jitter=0.0).backoff(2) == 2.0


def test_a_long_failure_streak_stays_at_the_cap() -> None:
    """A controller counts failures forever; 2**5000 would overflow a float."""
    assert RetryPolicy(max_delay=300.0, jitter=0.0).backoff(5000) == 300.0


def test_the_call_can_know_its_attempt() -> None:
    seen: list[int] = []

    def call(attempt: int) -> int:
        seen.append(attempt)
        if attempt < 3:
            raise TemporaryError("again")
        return attempt

    assert retry_counted(call, policy([]), what="thing") == 3
    assert seen == [1, 2, 3]


def test_a_policy_needs_one_attempt_and_a_jitter_fraction() -> None:
    with pytest.raises(ValueError, match="at least one attempt"):
        RetryPolicy(attempts=0)
    with pytest.raises(ValueError, match="jitter"):
        RetryPolicy(jitter=1.5)


@pytest.mark.parametrize(("headers", "expected"), [
    ({"Retry-After": "7"}, 7.0),
    ({"retry-after": " 12 "}, 12.0),
    ({"Retry-After": "Fri, 15 Jan 2027 08:00:10 GMT"}, 10.0),  # NOW is 08:00:00 that day
    ({"X-RateLimit-Reset": str(int(NOW) + 42)}, 42.0),
    ({"RateLimit-Reset": "5"}, 5.0),  # small: seconds from now, as GitLab may send
    ({"X-RateLimit-Reset": str(int(NOW) - 10)}, 0.0),
    ({"Retry-After": "soon, promise"}, None),
    ({}, None),
])
def test_server_delay_reads_retry_after_and_rate_limit_resets(headers: dict[str, str],
                                                               expected: float | None) -> None:
    assert server_delay(headers, NOW) == expected


def test_forge_statuses_split_into_temporary_and_permanent() -> None:
    unavailable = error_for(503, "down", {"Retry-After": "9"}, NOW)
    assert isinstance(unavailable, RetryableForgeError) and unavailable.delay == 9.0
    limited = error_for(403, "slow down", {"X-RateLimit-Remaining": "0",
                                           "X-RateLimit-Reset": str(int(NOW) + 20)}, NOW)
    assert isinstance(limited, RetryableForgeError) and limited.delay == 20.0
    assert isinstance(error_for(429, "slow down", {}, NOW), RetryableForgeError)
    for status, kind in ((401, ForgeAuthError), (403, ForgeAuthError), (404, ForgeNotFound),
                         (409, ForgeConflict), (422, ForgeConflict)):
        error = error_for(status, "no", {}, NOW)
        assert isinstance(error, kind) and not isinstance(error, TemporaryError)


def test_a_forge_that_stays_down_is_a_server_error_with_its_status() -> None:
    sleeps: list[float] = []
    call = Flaky(*[error_for(502, "bad gateway", {}, NOW) for _ in range(4)])
    with pytest.raises(ForgeServerError, match="GitHub get: giving up after 4 attempts") as caught:
        retry(call, policy(sleeps), what="GitHub get")
    assert caught.value.status == 502 and sleeps == [1.0, 2.0, 4.0]


def test_a_forge_client_error_is_raised_at_once() -> None:
    sleeps: list[float] = []
    call = Flaky(error_for(404, "gone", {}, NOW))
    with pytest.raises(ForgeNotFound):
        retry(call, policy(sleeps), what="GitHub get")
    assert call.calls == 1 and sleeps == []


def test_a_github_secondary_rate_limit_is_temporary_and_waits_a_minute() -> None:
    secondary = "get statuses: You have exceeded a secondary rate limit. Please wait a few minutes."
    bare = error_for(403, secondary, {}, NOW)
    assert isinstance(bare, RetryableForgeError) and bare.delay == 60.0
    told = error_for(403, secondary, {"Retry-After": "90"}, NOW)
    assert isinstance(told, RetryableForgeError) and told.delay == 90.0
    assert isinstance(error_for(429, secondary, {}, NOW), RetryableForgeError)
    assert isinstance(error_for(403, "get statuses: Resource not accessible by integration", {}, NOW),
                      ForgeAuthError)


def test_a_retry_never_sleeps_past_the_callers_deadline() -> None:
    sleeps: list[float] = []
    left = [10.0]
    call = Flaky(TemporaryError("a", delay=4.0), TemporaryError("b", delay=20.0), TemporaryError("c"))
    with bounded_by(lambda: left[0]), pytest.raises(HandoffError, match="giving up after 2 attempts: b"):
        retry(call, policy(sleeps), what="thing")
    assert sleeps == [4.0] and call.calls == 2
    sleeps.clear()
    assert retry(Flaky(TemporaryError("a", delay=20.0)), policy(sleeps), what="thing") == "done"
    assert sleeps == [20.0]  # outside the block there is no deadline
