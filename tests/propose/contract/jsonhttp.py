"""The HTTP plumbing the forge contract servers share: a threaded server on 127.0.0.1 that hands every
request to ``handle(method, path, headers, body) -> (status, headers, json_body)``. A bug in a contract
server answers 500 and is recorded as a violation, so the test fails loudly instead of hanging."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class JsonApiServer:
    content_type = "application/json"
    bug_body: Any = {"message": "contract server bug"}

    violations: list[str]

    def _start(self) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def handle(self, method: str, raw_path: str, headers: dict[str, str], raw: bytes
               ) -> tuple[int, dict[str, str], Any]:
        raise NotImplementedError

    def encode(self, body: Any) -> bytes:
        return json.dumps(body).encode()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    status, headers, body = server.handle(self.command, self.path, dict(self.headers.items()), raw)
                except Exception as e:  # a bug in this server: make the test fail loudly
                    server.violations.append(f"server error: {type(e).__name__}: {e}")
                    status, headers, body = 500, {}, server.bug_body
                payload = server.encode(body)
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Type", server.content_type)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _any

        return Handler
