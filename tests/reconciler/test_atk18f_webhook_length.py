"""atk18f: every refused webhook request "changes nothing and is counted" (reason ``bad-request`` for a
malformed one) and gets an answer. ``Receiver.check_length`` tests ``str.isdigit()``, which is also true
of the superscript digits Latin-1 holds (``²``, ``³``, ``¹``: HTTP header bytes 0xB2, 0xB3, 0xB9), and then
calls ``int()``, which refuses them: an unsigned request with ``Content-Length: ²`` raises ValueError out of
the handler. The client gets no HTTP answer (the connection is dropped), nothing is counted as refused,
and the traceback goes to stderr instead of the JSON log. Real HTTP, real Reconciler."""

from __future__ import annotations

import socket

import pytest

from .test_webhook import Served, served  # noqa: F401 - fixture


def test_a_content_length_of_superscript_digits_is_refused_and_counted(served: Served) -> None:  # noqa: F811
    with socket.create_connection(("127.0.0.1", served.port), timeout=10) as conn:
        conn.sendall(b"POST /hook HTTP/1.1\r\nHost: x\r\nX-GitHub-Event: push\r\nContent-Length: \xb2\r\n\r\nab")
        answer = b""
        try:
            while chunk := conn.recv(4096):
                answer += chunk
        except (ConnectionResetError, TimeoutError):
            pass
    status_line = answer.split(b"\r\n", 1)[0]
    refused = served.counted("handoff_webhook_refused_total", reason="bad-request")
    assert status_line.startswith(b"HTTP/1.0 4") or status_line.startswith(b"HTTP/1.1 4"), \
        (f"a malformed Content-Length is answered 4xx (411 or 400); got {status_line!r} (connection dropped by an "
         f"exception), refused{{reason=bad-request}}={refused}")
    assert refused == 1


@pytest.mark.parametrize("length", ["²", "١٢", "+5", "-1", "0x10", "1_0", "12 3"])
def test_a_content_length_other_than_ascii_digits_is_a_400(served: Served, length: str) -> None:  # noqa: F811
    # f18g: what int() takes is wider than HTTP's 1*DIGIT (other scripts' digits, a sign, underscores)
    reply = served.receiver.handle({"x-github-event": "push"}, length, lambda n: b"")
    assert (reply.status, reply.body["reason"]) == (400, "bad-request")
    assert served.counted("handoff_webhook_refused_total", reason="bad-request") == 1
