"""atk18f: the replay guard remembers a delivery by the digest of its signed body, so "a captured request
resent under a new id triggers nothing". The documented generic form for "anything else (a CI job)" is
``{"url": …, "ref": "refs/heads/main"}``: its body names no commit and no time, so every later push of the
same branch sends byte-for-byte the same body. The second CI run's request, under its own
``X-Handoff-Delivery`` id, is refused as a replay (409) and triggers nothing, and so is every one after it
until 4096 other deliveries pushed the first out: the generic form syncs a branch once. A GitLab push
whose payload equals an earlier one (the same before/after: a branch force-pushed back and forth; GitLab
puts no delivery time in the body) is refused the same way. Real HTTP, real Reconciler."""

from __future__ import annotations

import time

from .test_webhook import SECRET, Served, served  # noqa: F401 - fixture
from .webhooks import encode, github_headers, github_push, github_signature, gitlab_headers, gitlab_push, post


def _generic(body: bytes, delivery: str) -> dict[str, str]:
    return {"X-Handoff-Signature-256": github_signature(SECRET, body), "X-Handoff-Delivery": delivery,
            "Content-Type": "application/json"}


def _not_due(s: Served) -> None:
    for state in s.reconciler.state.values():
        state.next_due = float("inf")


def test_a_second_ci_run_of_the_documented_generic_form_triggers_a_sync(served: Served) -> None:  # noqa: F811
    body = encode({"url": "git@github.com:acme/config.git", "ref": "refs/heads/staging"})  # as docs/ say
    first = post(served.port, body, _generic(body, "pipeline-101"))
    assert (first.status, first.body.get("sources")) == (202, ["web-staging"])
    _not_due(served)
    # the next push to staging, the next pipeline: its own delivery id, the same documented body
    second = post(served.port, body, _generic(body, "pipeline-102"))
    assert (second.status, served.due()) == (202, ["web-staging"]), \
        ("a new delivery of the documented generic form (a new X-Handoff-Delivery id: another CI run after "
         "another push) makes the source due, not only the first one ever sent; got "
         f"{second.status} {second.body} and due={served.due()}")


def test_a_gitlab_push_equal_to_an_earlier_one_triggers_a_sync(served: Served) -> None:  # noqa: F811
    forward = encode(gitlab_push("platform/deploy", "config", after="b" * 40))
    back = gitlab_push("platform/deploy", "config", after="a" * 40)
    back["before"] = "b" * 40
    for i in range(2):
        _not_due(served)
        # main moved a→b, then force-pushed back b→a, then a→b again: each a real push, its own event uuid
        answer = post(served.port, forward, gitlab_headers(SECRET))
        assert (answer.status, served.due()) == (202, ["gl-web"]), \
            (f"push {i + 1} of main a→b (each a new push with its own X-Gitlab-Event-UUID) makes the source "
             f"due; got {answer.status} {answer.body} and due={served.due()}")
        _not_due(served)
        answer = post(served.port, encode(back), gitlab_headers(SECRET))
        assert answer.status == 202


def test_a_generic_delivery_resent_under_its_own_id_is_a_replay_and_says_so(served: Served) -> None:  # noqa: F811
    body = encode({"url": "git@github.com:acme/config.git", "ref": "refs/heads/staging"})
    assert post(served.port, body, _generic(body, "pipeline-101")).status == 202
    _not_due(served)
    again = post(served.port, body, _generic(body, "pipeline-101"))
    assert (again.status, again.body["reason"], served.due()) == (409, "replay", [])
    assert again.body["error"] == "generic webhook: delivery pipeline-101 was already received"


def test_a_github_body_resent_under_a_fresh_id_says_the_same_body(served: Served) -> None:  # noqa: F811
    body = encode(github_push("acme", "config"))
    assert post(served.port, body, github_headers(SECRET, body)).status == 202
    again = post(served.port, body, github_headers(SECRET, body))
    assert (again.status, again.body["error"]) == (409, "github webhook: the same body was already received")


def _stamped(body: bytes, delivery: str, stamp: int, signed_stamp: int | None = None) -> dict[str, str]:
    signed = f"{stamp if signed_stamp is None else signed_stamp}.".encode() + body
    return {**_generic(body, delivery), "X-Handoff-Signature-256": github_signature(SECRET, signed),
            "X-Handoff-Timestamp": str(stamp)}


def test_a_signed_timestamp_bounds_how_long_a_captured_generic_request_works(served: Served) -> None:  # noqa: F811
    body = encode({"url": "git@github.com:acme/config.git", "ref": "refs/heads/staging"})
    now = int(time.time())
    fresh = post(served.port, body, _stamped(body, "run-1", now))
    assert (fresh.status, served.due()) == (202, ["web-staging"])
    _not_due(served)
    assert post(served.port, body, _stamped(body, "run-1", now)).status == 409
    # captured an hour ago, resent under a new id: the timestamp is signed, so it cannot be refreshed
    old = post(served.port, body, _stamped(body, "run-2", now - 3600))
    assert (old.status, old.body["reason"]) == (401, "bad-signature")
    moved = post(served.port, body, _stamped(body, "run-3", now, signed_stamp=now - 3600))
    assert (moved.status, moved.body["reason"]) == (401, "bad-signature")
    # a signature over the body alone does not stand for a request that carries a timestamp
    unsigned_stamp = {**_generic(body, "run-4"), "X-Handoff-Timestamp": str(now)}
    assert post(served.port, body, unsigned_stamp).status == 401
    assert served.due() == []
