"""The one JSON-over-HTTPS call the API backends make: a bounded timeout, no redirects (a token is
never sent anywhere else), 5xx and rate limits retried under ``handoff.retry``, every other answer a
``ForgeError`` by status (``handoff.httpstatus``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests

from handoff.errors import ForgeError
from handoff.httpstatus import error_for
from handoff.redact import redact
from handoff.retry import RetryPolicy, bounded_timeout, retry

TIMEOUT = 30.0
MAX_BODY = 4 * 1024 * 1024


class JsonApi:
    def __init__(self, base_url: str, headers: Mapping[str, str], *, forge: str,
                 retry_policy: RetryPolicy | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.forge = forge
        self.calls = 0
        self._retry = retry_policy or RetryPolicy()
        self._session = requests.Session()
        self._session.headers.update({"Accept": "application/json", "User-Agent": "handoff", **headers})

    def request(self, what: str, method: str, path: str, *, body: Any = None,
                params: Mapping[str, str] | None = None) -> Any:
        return self.answer(what, method, path, body=body, params=params)[0]

    def answer(self, what: str, method: str, path: str, *, body: Any = None,
               params: Mapping[str, str] | None = None) -> tuple[Any, Mapping[str, str]]:
        """The JSON answer and the response headers (GitLab pages by headers: ``X-Next-Page``)."""
        def once() -> tuple[Any, Mapping[str, str]]:
            self.calls += 1
            try:
                response = self._session.request(method, self.base_url + path, json=body, params=params,
                                                 timeout=bounded_timeout(TIMEOUT), allow_redirects=False)
            except requests.RequestException as e:
                raise ForgeError(redact(f"{what}: cannot reach {self.forge}: {e}")) from e
            if response.status_code >= 300:
                message = f"{what}: {redact(response.text[:300])}"
                raise error_for(response.status_code, message, response.headers, self._retry.clock())
            if len(response.content) > MAX_BODY:
                raise ForgeError(f"{what}: {self.forge} answered more than {MAX_BODY} bytes")
            try:
                return (response.json() if response.content else None), response.headers
            except ValueError as e:
                raise ForgeError(f"{what}: {self.forge} answered something that is not JSON") from e
        return retry(once, self._retry, what=f"{self.forge} {what}")
