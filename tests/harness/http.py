"""Plain HTTP(S) requests to servers on 127.0.0.1 that ignore the caller's proxy settings."""

import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from email.message import Message


@dataclass(frozen=True)
class Response:
    status: int
    headers: Message = field(repr=False)
    body: bytes


def request(
    url: str,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    data: bytes | None = None,
    context: ssl.SSLContext | None = None,
    timeout: float = 10.0,
) -> Response:
    """One request; HTTP error statuses are returned, not raised."""
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context)
    )
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with opener.open(req, timeout=timeout) as resp:
            return Response(resp.status, resp.headers, resp.read())
    except urllib.error.HTTPError as e:
        return Response(e.code, e.headers, e.read())


def is_ok(url: str, *, headers: dict[str, str] | None = None, context: ssl.SSLContext | None = None) -> bool:
    """True when url answers 200; False while the server is not up yet."""
    try:
        return request(url, headers=headers, context=context, timeout=2.0).status == 200
    except (OSError, urllib.error.URLError):
        return False
