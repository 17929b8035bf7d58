"""The push-webhook receiver over real HTTP on 127.0.0.1, in front of a real Reconciler: verified pushes
make the matching sources due; anything refused (signature, size, replay, event) changes nothing and is
counted."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest

from handoff.cli import main
from handoff.errors import UsageError
from handoff.kube.client import Connection, KubeClient
from handoff.kube.lease import LeaderElector
from handoff.reconciler.config import Settings, Source
from handoff.reconciler.loop import Reconciler
from handoff.reconciler.metrics import Metrics
from handoff.reconciler.webhook import Receiver, ref_matches, repository_identity, secret_file, serve

from .webhooks import (
    encode,
    github_headers,
    github_push,
    github_signature,
    gitlab_headers,
    gitlab_push,
    post,
)

SECRET = "s3cret-for-tests-only"
SOURCES = (
    Source(name="web-https", url="https://github.com/Acme/Config.git", revision="main"),
    Source(name="web-ssh", url="git@github.com:acme/config.git", revision="refs/heads/main"),
    Source(name="web-staging", url="https://github.com/acme/config", revision="staging"),
    Source(name="web-tag", url="https://github.com/acme/config", revision="v1.2.0"),
    Source(name="web-pinned", url="https://github.com/acme/config", revision="c" * 40),
    Source(name="other-repo", url="https://github.com/acme/other.git", revision="main"),
    Source(name="gl-web", url="https://gitlab.example.com/platform/deploy/config.git", revision="main"),
)


class Served:
    def __init__(self, reconciler: Reconciler, receiver: Receiver, port: int) -> None:
        self.reconciler, self.receiver, self.port = reconciler, receiver, port

    def due(self) -> list[str]:
        return sorted(s.name for s in self.reconciler.due())

    def counted(self, name: str, **labels: str) -> float:
        return self.reconciler.metrics.registry.get_sample_value(name, labels) or 0.0


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    client = KubeClient(Connection(server="https://127.0.0.1:1"))  # never called: nothing runs a pass
    metrics = Metrics()
    reconciler = Reconciler(Settings(sources=SOURCES), client, tmp_path, metrics=metrics)
    for state in reconciler.state.values():
        state.next_due = float("inf")
    (tmp_path / "secret").write_text(SECRET + "\n")  # as a mounted Secret often ends
    receiver = Receiver(reconciler, secret_file(tmp_path / "secret"), metrics, max_body=64 * 1024)
    server = serve(receiver, "127.0.0.1:0")
    try:
        yield Served(reconciler, receiver, int(server.server_address[1]))
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("url", [
    "https://github.com/acme/config.git", "https://github.com/acme/config", "https://github.com/acme/config/",
    "HTTPS://GitHub.COM/Acme/Config.git", "git@github.com:acme/config.git", "ssh://git@github.com:22/acme/config",
    "git://github.com/acme/config.git", "https://token@github.com/acme/config.git/",
    "http://github.com:443/acme/config",
])
def test_every_spelling_of_a_repository_url_is_the_same_repository(url: str) -> None:
    assert repository_identity(url) == "github.com/acme/config"


def test_different_repositories_stay_different() -> None:
    assert repository_identity("https://github.com/acme/config") != repository_identity(
        "https://github.com/acme/config-prod")
    assert repository_identity("https://github.com/acme/config") != repository_identity(
        "https://gitlab.com/acme/config")
    assert repository_identity("git@gitlab.com:group/sub/config.git") == "gitlab.com/group/sub/config"


def test_a_pushed_ref_matches_its_branch_or_tag_never_a_pinned_commit() -> None:
    assert ref_matches("refs/heads/main", "main")
    assert ref_matches("refs/heads/main", "refs/heads/main")
    assert ref_matches("refs/tags/v1.2.0", "v1.2.0")
    assert not ref_matches("refs/heads/main", "staging")
    assert not ref_matches("refs/heads/feature/main", "main")
    assert not ref_matches("refs/heads/main", "c" * 40)


def test_a_signed_github_push_makes_the_matching_sources_due(served: Served) -> None:
    body = encode(github_push("acme", "config"))
    answer = post(served.port, body, github_headers(SECRET, body))
    assert answer.status == 202
    assert answer.body["triggered"] == 2
    assert sorted(answer.body["sources"]) == ["web-https", "web-ssh"]
    assert served.due() == ["web-https", "web-ssh"]
    assert served.counted("handoff_webhook_requests_total", forge="github") == 1
    assert served.counted("handoff_webhook_triggered_total", source="web-ssh") == 1


def test_a_tag_push_triggers_the_source_following_that_tag(served: Served) -> None:
    body = encode(github_push("acme", "config", ref="refs/tags/v1.2.0"))
    answer = post(served.port, body, github_headers(SECRET, body))
    assert (answer.status, answer.body["sources"]) == (202, ["web-tag"])


def test_a_push_to_a_repository_no_source_follows_triggers_nothing(served: Served) -> None:
    body = encode(github_push("acme", "unrelated"))
    answer = post(served.port, body, github_headers(SECRET, body))
    assert (answer.status, answer.body["triggered"]) == (202, 0)
    assert served.due() == []


def test_github_form_encoded_delivery_is_understood(served: Served) -> None:
    body = urlencode({"payload": encode(github_push("acme", "config", ref="refs/heads/staging")).decode()}).encode()
    headers = {**github_headers(SECRET, body), "Content-Type": "application/x-www-form-urlencoded"}
    answer = post(served.port, body, headers)
    assert (answer.status, answer.body["sources"]) == (202, ["web-staging"])


@pytest.mark.parametrize("signature", ["", "sha256=" + "0" * 64, "sha1=abc", None])
def test_a_bad_or_missing_signature_changes_nothing_and_is_counted(served: Served, signature: str | None) -> None:
    body = encode(github_push("acme", "config"))
    headers = github_headers(SECRET, body)
    if signature is None:
        del headers["X-Hub-Signature-256"]
    else:
        headers["X-Hub-Signature-256"] = signature
    answer = post(served.port, body, headers)
    assert answer.status == 401 and answer.body["reason"] == "bad-signature"
    assert served.due() == []
    assert served.counted("handoff_webhook_refused_total", reason="bad-signature") == 1
    assert served.counted("handoff_webhook_triggered_total", source="web-https") == 0


def test_a_body_signed_with_another_secret_or_altered_after_signing_is_refused(served: Served) -> None:
    body = encode(github_push("acme", "config"))
    wrong = {**github_headers(SECRET, body), "X-Hub-Signature-256": github_signature("other", body)}
    assert post(served.port, body, wrong).status == 401
    altered = body.replace(b"refs/heads/main", b"refs/heads/staging")
    assert post(served.port, altered, github_headers(SECRET, body)).status == 401
    assert served.due() == []


def test_a_replayed_delivery_triggers_nothing(served: Served) -> None:
    body = encode(github_push("acme", "config"))
    headers = github_headers(SECRET, body)
    assert post(served.port, body, headers).status == 202
    for state in served.reconciler.state.values():
        state.next_due = float("inf")
    again = post(served.port, body, headers)
    assert again.status == 409 and again.body["reason"] == "replay"
    # the same signed body under a fresh delivery id is the same push replayed
    fresh_id = post(served.port, body, github_headers(SECRET, body))
    assert fresh_id.status == 409
    assert served.due() == []
    assert served.counted("handoff_webhook_refused_total", reason="replay") == 2
    # a new push (another commit) is not a replay
    newer = encode(github_push("acme", "config", after="d" * 40))
    assert post(served.port, newer, github_headers(SECRET, newer)).status == 202


def test_the_replay_memory_is_bounded(tmp_path: Path) -> None:
    client = KubeClient(Connection(server="https://127.0.0.1:1"))
    reconciler = Reconciler(Settings(sources=SOURCES), client, tmp_path)
    (tmp_path / "secret").write_text(SECRET)
    receiver = Receiver(reconciler, secret_file(tmp_path / "secret"), reconciler.metrics, replay_memory=3)
    for i in range(10):
        assert receiver.deliveries.first_time(f"id-{i}")
    assert len(receiver.deliveries._seen) == 3
    assert not receiver.deliveries.first_time("id-9")


def test_a_body_over_the_limit_is_refused_before_it_is_read(served: Served) -> None:
    """Only the headers are sent: the receiver answers 413 from Content-Length without waiting for a body."""
    with socket.create_connection(("127.0.0.1", served.port), timeout=30) as sock:
        sock.sendall(b"POST /hook HTTP/1.1\r\nHost: x\r\nX-GitHub-Event: push\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 10485760\r\n\r\n")
        answer = sock.recv(65536).decode()
    assert answer.startswith("HTTP/1.0 413") or answer.startswith("HTTP/1.1 413"), answer
    assert served.counted("handoff_webhook_refused_total", reason="too-large") == 1
    assert served.due() == []


def test_a_request_without_a_length_is_refused(served: Served) -> None:
    with socket.create_connection(("127.0.0.1", served.port), timeout=30) as sock:
        sock.sendall(b"POST /hook HTTP/1.1\r\nHost: x\r\nX-GitHub-Event: push\r\n\r\n")
        answer = sock.recv(65536).decode()
    assert " 411 " in answer.splitlines()[0]


def test_ping_is_answered_and_other_events_are_refused(served: Served) -> None:
    ping = encode({"zen": "Keep it logically awesome.", "hook_id": 1, "hook": {"type": "Repository"}})
    answer = post(served.port, ping, github_headers(SECRET, ping, event="ping"))
    assert (answer.status, answer.body) == (200, {"pong": True})
    issues = encode({"action": "opened", "issue": {"number": 1}})
    refused = post(served.port, issues, github_headers(SECRET, issues, event="issues"))
    assert refused.status == 400 and refused.body["reason"] == "unknown-event"
    anonymous = post(served.port, b"{}", {"Content-Type": "application/json"})
    assert anonymous.status == 400 and anonymous.body["reason"] == "unknown-event"
    assert served.counted("handoff_webhook_refused_total", reason="unknown-event") == 2
    assert served.counted("handoff_webhook_requests_total", forge="unknown") == 1


def test_a_signed_but_malformed_payload_is_refused(served: Served) -> None:
    for body in (b"not json", b"[1, 2]", encode({"repository": {}})):
        answer = post(served.port, body, github_headers(SECRET, body))
        assert answer.status == 400 and answer.body["reason"] == "bad-request", body
    assert served.due() == []


def test_a_gitlab_push_with_the_token_triggers_and_a_wrong_token_does_not(served: Served) -> None:
    body = encode(gitlab_push("platform/deploy", "config"))
    refused = post(served.port, body, gitlab_headers("wrong-token"))
    assert refused.status == 401 and served.due() == []
    answer = post(served.port, body, gitlab_headers(SECRET))
    assert (answer.status, answer.body["sources"]) == (202, ["gl-web"])
    assert served.due() == ["gl-web"]
    assert served.counted("handoff_webhook_requests_total", forge="gitlab") == 2
    other = encode(gitlab_push("platform/deploy", "config", after="e" * 40))
    assert post(served.port, other, gitlab_headers(SECRET, event="Merge Request Hook")).status == 400


def test_the_generic_form_is_signed_like_github(served: Served) -> None:
    body = encode({"url": "git@github.com:acme/config.git", "ref": "refs/heads/staging"})
    headers = {"X-Handoff-Signature-256": github_signature(SECRET, body), "X-Handoff-Delivery": "run-1",
               "Content-Type": "application/json"}
    answer = post(served.port, body, headers)
    assert (answer.status, answer.body["sources"]) == (202, ["web-staging"])
    assert post(served.port, body, {**headers, "X-Handoff-Signature-256": "sha256=00"}).status == 401


def test_only_post_to_the_hook_path(served: Served) -> None:
    body = encode(github_push("acme", "config"))
    assert post(served.port, body, github_headers(SECRET, body), path="/other").status == 404
    assert served.due() == []


def test_the_secret_file_is_required_non_empty_and_reread_when_rotated(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot read"):
        secret_file(tmp_path / "missing")
    (tmp_path / "empty").write_text("\n")
    with pytest.raises(UsageError, match="is empty"):
        secret_file(tmp_path / "empty")
    path = tmp_path / "secret"
    path.write_text("first\n")
    current = secret_file(path)
    assert current() == b"first"
    path.write_text("second")
    assert current() == b"second"
    path.unlink()  # mid-rotation: the last secret stays
    assert current() == b"second"


def test_webhook_addr_without_a_secret_file_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["reconcile", "--repo", "https://github.com/acme/config.git", "--webhook-addr", "127.0.0.1:0"])
    assert code == 2
    assert "--webhook-secret-file" in capsys.readouterr().err


def test_a_body_shorter_than_announced_is_refused_not_verified(served: Served) -> None:
    body = encode(github_push("acme", "config"))
    head = (f"POST /hook HTTP/1.1\r\nHost: x\r\nX-GitHub-Event: push\r\nX-GitHub-Delivery: short-1\r\n"
            f"X-Hub-Signature-256: {github_signature(SECRET, body)}\r\nContent-Length: {len(body)}\r\n\r\n")
    with socket.create_connection(("127.0.0.1", served.port), timeout=30) as sock:
        sock.sendall(head.encode() + body[:-10])
        sock.shutdown(socket.SHUT_WR)  # the client gives up mid-body
        answer = sock.recv(65536).decode()
    assert " 400 " in answer.splitlines()[0], answer
    assert served.counted("handoff_webhook_refused_total", reason="bad-request") == 1
    assert served.due() == []


def test_a_standby_replica_answers_503_and_triggers_nothing(tmp_path: Path) -> None:
    client = KubeClient(Connection(server="https://127.0.0.1:1"))
    standby = LeaderElector(client, "handoff-system", "handoff-reconciler", "replica-b")  # never acquired
    reconciler = Reconciler(Settings(sources=SOURCES), client, tmp_path, elector=standby)
    for state in reconciler.state.values():
        state.next_due = float("inf")
    (tmp_path / "secret").write_text(SECRET)
    server = serve(Receiver(reconciler, secret_file(tmp_path / "secret"), reconciler.metrics), "127.0.0.1:0")
    try:
        body = encode(github_push("acme", "config"))
        answer = post(int(server.server_address[1]), body, github_headers(SECRET, body))
        assert answer.status == 503 and answer.body["reason"] == "standby"
        assert reconciler.due() == []
        # unverified requests learn nothing about the replica's role
        forged = post(int(server.server_address[1]), body, {**github_headers(SECRET, body),
                                                             "X-Hub-Signature-256": "sha256=00"})
        assert forged.status == 401
    finally:
        server.shutdown()
        server.server_close()
