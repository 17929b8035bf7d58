"""The sync-now webhook receiver: a verified push event makes the sources it names due at once.

GitHub (``X-Hub-Signature-256``, an HMAC-SHA256 of the body), GitLab (``X-Gitlab-Token``) and a generic
form (``X-Handoff-Signature-256``, the same HMAC, body ``{"url": …, "ref": …}``; with ``X-Handoff-Timestamp``
the HMAC covers ``TIMESTAMP.BODY`` and must be recent) are accepted. Every request is checked in the same
order, and refused before anything changes: its size (before the body is read), its signature or token
(constant-time), its delivery (a replayed one triggers nothing), then its event. What identifies a
delivery depends on the form: a GitHub push body is unique (it names the commit and the push time), so its
digest is remembered as well as its id; a GitLab or generic body can repeat byte for byte (a branch pushed
back and forth, every CI run of one branch), so those are remembered by their delivery id (and timestamp).

A push names repository URLs and a ref; every source whose URL and branch or tag match is
requested to sync (``Reconciler.request_sync``) and the loop runs it at its next tick. A standby replica
(not the Lease holder) hands each matching Source object over to the leader instead, by setting its
sync-now annotation (``Receiver.handover``); only sources without an object (the config file's) make it
answer 503.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from handoff.errors import UsageError
from handoff.reconciler.config import Source
from handoff.reconciler.metrics import Metrics, parse_addr

log = logging.getLogger("handoff.reconciler.webhook")

MAX_BODY = 1024 * 1024  # GitHub caps payloads at 25 MB; a push of a config repo is a few KiB
REPLAY_MEMORY = 4096  # deliveries remembered (each by the keys that identify it, see _replay_keys)
TIMESTAMP_WINDOW = 300  # seconds a generic request's signed X-Handoff-Timestamp may be from now
HOOK_PATH = "/hook"
READ_TIMEOUT = 10.0  # seconds a client may take to send its request (no slow-loris threads)

# refusal reasons, the ``reason`` label of ``handoff_webhook_refused_total``
BAD_SIGNATURE, TOO_LARGE, REPLAY, UNKNOWN_EVENT, BAD_REQUEST, STANDBY = (
    "bad-signature", "too-large", "replay", "unknown-event", "bad-request", "standby")

_SCP_LIKE = re.compile(r"^(?:[^@/]+@)?(?P<host>[^:/]+):(?P<path>(?!//).+)$")


class Trigger(Protocol):
    """What the receiver needs of the reconciler."""

    def sources(self) -> tuple[Source, ...]: ...

    def request_sync(self, name: str) -> bool: ...

    def can_write(self) -> bool: ...


def repository_identity(url: str) -> str:
    """``host/path`` of a git URL, the same for every way of writing it: scheme, userinfo and port
    dropped, host and path lower-cased, no ``.git`` or slashes at the ends; scp-style ``git@host:path``
    too. Forges treat owner and repository names case-insensitively; a rare false match costs one
    extra pass, which is idempotent."""
    text = url.strip()
    if "://" in text:
        parts = urlsplit(text)
        host, path = parts.hostname or "", parts.path
    elif match := _SCP_LIKE.match(text):
        host, path = match["host"], match["path"]
    else:
        host, path = "", text
    path = path.strip("/").removesuffix(".git").rstrip("/")
    return f"{host}/{path}".lower()


def ref_matches(ref: str, revision: str) -> bool:
    """A pushed ``refs/heads/X`` or ``refs/tags/X`` is the source's revision ``X`` (or its full ref name);
    a source pinned to a commit never matches."""
    for prefix in ("refs/heads/", "refs/tags/"):
        if ref.startswith(prefix):
            return revision in (ref, ref.removeprefix(prefix))
    return False


@dataclass(frozen=True)
class Push:
    """A verified push: where to, which ref."""

    urls: tuple[str, ...]
    ref: str


@dataclass(frozen=True)
class Reply:
    status: int
    body: dict[str, Any]


class Refused(Exception):
    """A request the receiver does not act on."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.status, self.reason = status, reason


@dataclass(frozen=True)
class _Forge:
    name: str
    event: str  # the event header's value ("" when the form has none)
    delivery: str
    verify: Callable[[bytes, bytes], bool]  # (secret, body) -> authentic
    push_events: frozenset[str]
    ping_events: frozenset[str]
    urls: Callable[[Mapping[str, Any]], Iterable[Any]]


def _hmac_ok(signature: str, signed_prefix: bytes = b"") -> Callable[[bytes, bytes], bool]:
    def verify(secret: bytes, body: bytes) -> bool:
        expected = "sha256=" + hmac.new(secret, signed_prefix + body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected.encode(), signature.strip().encode())
    return verify


def _token_ok(token: str) -> Callable[[bytes, bytes], bool]:
    def verify(secret: bytes, body: bytes) -> bool:
        return hmac.compare_digest(secret, token.encode())
    return verify


def _github_urls(payload: Mapping[str, Any]) -> Iterable[Any]:
    repo = payload.get("repository") or {}
    return [repo.get(k) for k in ("clone_url", "ssh_url", "html_url", "git_url")]


def _gitlab_urls(payload: Mapping[str, Any]) -> Iterable[Any]:
    project, repo = payload.get("project") or {}, payload.get("repository") or {}  # ``repository``: legacy
    return [*(project.get(k) for k in ("git_http_url", "git_ssh_url", "web_url")),
            *(repo.get(k) for k in ("git_http_url", "git_ssh_url", "homepage"))]


def _forge_name(headers: Mapping[str, str]) -> str:
    for header, name in (("x-github-event", "github"), ("x-gitlab-event", "gitlab"),
                         ("x-handoff-signature-256", "generic")):
        if header in headers:
            return name
    return "unknown"


def _identify(headers: Mapping[str, str]) -> _Forge:
    """Which forge sent it, from its headers (lower-cased names)."""
    if "x-github-event" in headers:
        return _Forge("github", headers["x-github-event"], headers.get("x-github-delivery", ""),
                      _hmac_ok(headers.get("x-hub-signature-256", "")), frozenset({"push"}),
                      frozenset({"ping"}), _github_urls)
    if "x-gitlab-event" in headers:
        return _Forge("gitlab", headers["x-gitlab-event"], headers.get("x-gitlab-event-uuid", ""),
                      _token_ok(headers.get("x-gitlab-token", "")),
                      frozenset({"Push Hook", "Tag Push Hook"}), frozenset(), _gitlab_urls)
    if "x-handoff-signature-256" in headers:
        stamp = headers.get("x-handoff-timestamp", "").strip()
        return _Forge("generic", "push", headers.get("x-handoff-delivery", ""),
                      _hmac_ok(headers["x-handoff-signature-256"], f"{stamp}.".encode() if stamp else b""),
                      frozenset({"push"}), frozenset(), lambda payload: [payload.get("url")])
    raise Refused(400, UNKNOWN_EVENT, "not a GitHub, GitLab or handoff webhook (no event or signature "
                                      "header)")


class DeliveryCache:
    """The last ``size`` deliveries, each remembered by every key given for it."""

    def __init__(self, size: int = REPLAY_MEMORY) -> None:
        self.size = size
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def first_time(self, *keys: str) -> bool:
        """True, and remembered, unless one of ``keys`` was seen before."""
        return self.repeated(*keys) is None

    def repeated(self, *keys: str) -> str | None:
        """The first of ``keys`` seen before; else None, and every key is remembered."""
        keys = tuple(k for k in keys if k)
        with self._lock:
            for k in keys:
                if k in self._seen:
                    return k
            for k in keys:
                self._seen[k] = None
            while len(self._seen) > self.size:
                self._seen.popitem(last=False)
            return None


def _check_timestamp(headers: Mapping[str, str], now: float) -> str:
    """A generic request's ``X-Handoff-Timestamp`` (Unix seconds, signed with the body): "" when absent;
    refused when malformed or further than ``TIMESTAMP_WINDOW`` from ``now`` (an old captured request)."""
    stamp = headers.get("x-handoff-timestamp", "").strip()
    if not stamp:
        return ""
    if not re.fullmatch(r"[0-9]{1,12}", stamp):
        raise Refused(400, BAD_REQUEST, "X-Handoff-Timestamp must be Unix seconds")
    if abs(now - int(stamp)) > TIMESTAMP_WINDOW:
        raise Refused(401, BAD_SIGNATURE, f"X-Handoff-Timestamp {stamp} is more than {TIMESTAMP_WINDOW}s "
                                          "from now")
    return stamp


def _replay_keys(forge: _Forge, body: bytes, stamp: str) -> tuple[str, tuple[str, ...]]:
    """What identifies one delivery of ``forge``: the key naming its id, and every key to remember it by.
    A GitHub body is itself unique (commit and push time), so the same body under a fresh id is a replay;
    a GitLab or generic body is not (the same before/after again, the same branch each CI run), so only
    its id (with the signed timestamp, and the body, so one id cannot carry another push) identifies it."""
    digest = hashlib.sha256(body).hexdigest()
    if forge.name == "github":
        by_id = f"github:{forge.delivery}" if forge.delivery else ""
        return by_id, (by_id, digest)
    key = f"{forge.name}:{forge.delivery}:{stamp}:{digest}"
    return key, (key,)


def _payload(body: bytes, content_type: str) -> Mapping[str, Any]:
    text = body.decode("utf-8")
    if content_type.partition(";")[0].strip().lower() == "application/x-www-form-urlencoded":
        text = (parse_qs(text).get("payload") or [""])[0]  # GitHub's form delivery: payload=<json>
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("the payload is not a JSON object")
    return data


class Receiver:
    """Verifies a webhook request and triggers the sources it names; transport-free, so the HTTP
    handler stays a shell."""

    def __init__(self, trigger: Trigger, secret: Callable[[], bytes], metrics: Metrics, *,
                 max_body: int = MAX_BODY, replay_memory: int = REPLAY_MEMORY,
                 handover: Callable[[str], bool] | None = None) -> None:
        """``handover(name)``: on a standby replica, ask the leader to sync source ``name`` (the sync-now
        annotation on its Source object, which the leader's watch sees); False when it cannot (a
        config-file source has no object to annotate)."""
        self.trigger, self.secret, self.metrics, self.max_body = trigger, secret, metrics, max_body
        self.deliveries = DeliveryCache(replay_memory)
        self.handover = handover

    def refuse(self, problem: Refused) -> Reply:
        self.metrics.webhook_refused.labels(problem.reason).inc()
        log.warning("webhook refused", extra={"reason": problem.reason, "detail": str(problem)})
        return Reply(problem.status, {"error": str(problem), "reason": problem.reason})

    def check_length(self, length: str | None) -> int:
        """The body's announced length, refused when missing or over the bound (before it is read)."""
        if length is None or not length.strip():
            raise Refused(411, BAD_REQUEST, "a Content-Length is required")
        if not re.fullmatch(r"[0-9]{1,12}", length.strip()):  # ASCII digits: isdigit() admits "²"
            raise Refused(400, BAD_REQUEST, "Content-Length is not a decimal number")
        if int(length) > self.max_body:
            raise Refused(413, TOO_LARGE, f"body of {int(length)} bytes is over the limit of {self.max_body}")
        return int(length)

    def handle(self, headers: Mapping[str, str], length: str | None, read: Callable[[int], bytes]) -> Reply:
        """One request: ``headers`` with lower-cased names, its ``Content-Length``, and how to read that
        many bytes of body (called only once the length is within the bound)."""
        self.metrics.webhook_received.labels(_forge_name(headers)).inc()
        try:
            expected = self.check_length(length)
            try:
                body = read(expected)
            except TimeoutError as e:
                raise Refused(408, BAD_REQUEST, f"body not received within {READ_TIMEOUT:.0f}s") from e
            if len(body) != expected:
                raise Refused(400, BAD_REQUEST, f"body of {len(body)} bytes, announced {expected}")
            return self._handle(headers, body)
        except Refused as e:
            return self.refuse(e)

    def _handle(self, headers: Mapping[str, str], body: bytes) -> Reply:
        forge = _identify(headers)
        if not forge.verify(self.secret(), body):
            raise Refused(401, BAD_SIGNATURE, f"{forge.name} webhook with a wrong signature or token")
        if not self.trigger.can_write() and self.handover is None:
            # only the Lease holder runs passes: say so, so the forge's delivery log shows where it went
            raise Refused(503, STANDBY, "this replica is a standby; send webhooks to the leader")
        stamp = _check_timestamp(headers, time.time()) if forge.name == "generic" else ""
        by_id, keys = _replay_keys(forge, body, stamp)
        seen = self.deliveries.repeated(*keys)
        if seen is not None:
            what = f"delivery {forge.delivery}" if seen == by_id and forge.delivery else "the same body"
            raise Refused(409, REPLAY, f"{forge.name} webhook: {what} was already received")
        if forge.event in forge.ping_events:
            return Reply(200, {"pong": True})
        if forge.event not in forge.push_events:
            raise Refused(400, UNKNOWN_EVENT, f"{forge.name} event {forge.event!r} is not a push")
        try:
            push = self._push(forge, _payload(body, headers.get("content-type", "")))
        except (UnicodeDecodeError, ValueError, AttributeError) as e:
            raise Refused(400, BAD_REQUEST, f"malformed {forge.name} push payload: {e}") from e
        leader = self.trigger.can_write()
        triggered, missed = self.trigger_matching(push)
        log.info("webhook push", extra={"forge": forge.name, "delivery": forge.delivery, "ref": push.ref,
                                        "triggered": triggered, "standby": not leader})
        if missed and not triggered and not leader:
            raise Refused(503, STANDBY, "this replica is a standby and the matching sources have no Source "
                                        "object to annotate; send webhooks to the leader")
        answer: dict[str, Any] = {"triggered": len(triggered), "sources": triggered}
        if not leader:
            answer["handedOver"] = True  # the leader runs them: the annotation is set, its watch sees it
        return Reply(202, answer)

    @staticmethod
    def _push(forge: _Forge, payload: Mapping[str, Any]) -> Push:
        ref = payload.get("ref")
        if not isinstance(ref, str):
            raise ValueError("no ref")
        urls = tuple(u for u in forge.urls(payload) if isinstance(u, str) and u)
        return Push(urls=urls, ref=ref)

    def trigger_matching(self, push: Push) -> tuple[list[str], list[str]]:
        """Request a sync of every source the push names: made due here on the leader, handed over to
        the leader from a standby. The names of those requested, and of those a standby could not hand
        over."""
        pushed = {repository_identity(u) for u in push.urls}
        request = self.trigger.request_sync if self.trigger.can_write() or self.handover is None \
            else self.handover
        triggered, missed = [], []
        for source in self.trigger.sources():
            if repository_identity(source.url) not in pushed or not ref_matches(push.ref, source.revision):
                continue
            if request(source.name):
                self.metrics.webhook_triggered.labels(source.name).inc()
                triggered.append(source.name)
            else:
                missed.append(source.name)
        return triggered, missed


def secret_file(path: Path) -> Callable[[], bytes]:
    """The shared secret from a (Secret-mounted) file, re-read when the kubelet rotates it; refused at
    start when missing or empty. A file that later vanishes mid-rotation keeps the last secret."""
    def read() -> bytes:
        return path.read_bytes().strip()

    try:
        first = read()
    except OSError as e:
        raise UsageError(f"cannot read --webhook-secret-file {path}: {e.strerror}") from e
    if not first:
        raise UsageError(f"--webhook-secret-file {path} is empty")
    last = [first]

    def current() -> bytes:
        try:
            fresh = read()
        except OSError:
            return last[0]
        if fresh:
            last[0] = fresh
        return last[0]

    return current


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        timeout = READ_TIMEOUT

        def do_POST(self) -> None:
            if self.path.split("?")[0] != HOOK_PATH:
                self._send(Reply(404, {"error": f"not found (POST {HOOK_PATH})"}))
                return
            headers = {k.lower(): v for k, v in self.headers.items()}
            reply = receiver.handle(headers, self.headers.get("Content-Length"), self.rfile.read)
            if reply.status in (408, 411, 413):
                self.close_connection = True  # the unread body must not be taken for the next request
            self._send(reply)

        def do_GET(self) -> None:
            self._send(Reply(405, {"error": f"use POST {HOOK_PATH}"}))

        def _send(self, reply: Reply) -> None:
            data = json.dumps(reply.body).encode() + b"\n"
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            return  # the receiver logs what it decided, as JSON

    return Handler


def serve(receiver: Receiver, addr: str) -> ThreadingHTTPServer:
    """Start the receiver in a daemon thread; ``server.server_address`` gives the bound port."""
    try:
        server = ThreadingHTTPServer(parse_addr(addr, flag="--webhook-addr"), _handler(receiver))
    except OSError as e:
        raise UsageError(f"cannot listen on {addr}: {e.strerror}") from e
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="webhook", daemon=True).start()
    return server
