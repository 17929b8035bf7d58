"""A real registry (CNCF distribution) with ``auth: token``, and the token service it trusts.

The registry validates real JWTs: RS256, signed by a throwaway key whose self-signed certificate is the
registry's ``rootcertbundle`` and travels in the token's ``x5c`` header. It serves the storage of the
session's open registry, so images pushed there can be resolved here only with a token.
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import json
import secrets
import threading
import time
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from tests.harness.http import request
from tests.harness.ports import free_port
from tests.harness.process import ServerProcess, clean_env
from tests.harness.registry import Registry
from tests.harness.tools import require_tool

SERVICE = "handoff-test-registry"
ISSUER = "handoff-test-token-issuer"


class TokenServer:
    """The realm: checks basic auth, answers ``{"token": JWT}`` for the requested pull scope; and the OAuth2
    form (``POST grant_type=refresh_token``) for ``identity_token``, answering ``{"access_token": JWT}``."""

    def __init__(self, workdir: Path, username: str, password: str, identity_token: str = "") -> None:
        self.username, self.password, self.identity_token = username, password, identity_token
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "handoff test token issuer")])
        now = datetime.datetime.now(datetime.UTC)
        self.cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                     .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
                     .not_valid_before(now - datetime.timedelta(hours=1))
                     .not_valid_after(now + datetime.timedelta(days=1))
                     .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                     .sign(self.key, hashes.SHA256()))
        self.cert_file = workdir / "token-issuer.pem"
        self.cert_file.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))
        self.requests: list[dict[str, Any]] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def realm(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/token"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def issue(self, scope: str) -> str:
        kind, name, actions = scope.split(":", 2)
        now = int(time.time())
        claims = {"iss": ISSUER, "sub": self.username, "aud": SERVICE, "exp": now + 300, "nbf": now - 10,
                  "iat": now, "jti": secrets.token_hex(8),
                  "access": [{"type": kind, "name": name, "actions": actions.split(",")}]}
        x5c = base64.b64encode(self.cert.public_bytes(serialization.Encoding.DER)).decode()
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"x5c": [x5c]})

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
                auth = self.headers.get("Authorization", "")
                owner.requests.append({"query": query, "authorization": auth})
                expected = "Basic " + base64.b64encode(f"{owner.username}:{owner.password}".encode()).decode()
                if auth != expected or query.get("service") != SERVICE:
                    self._reply(401, {"errors": [{"code": "UNAUTHORIZED", "message": "bad credentials"}]})
                    return
                self._reply(200, {"token": owner.issue(query.get("scope", "")), "expires_in": 300})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                owner.requests.append({"method": "POST", "form": form,
                                       "authorization": self.headers.get("Authorization", "")})
                if (not owner.identity_token or form.get("grant_type") != "refresh_token"
                        or form.get("refresh_token") != owner.identity_token or form.get("service") != SERVICE):
                    self._reply(401, {"errors": [{"code": "UNAUTHORIZED", "message": "bad refresh token"}]})
                    return
                self._reply(200, {"access_token": owner.issue(form.get("scope", "")), "expires_in": 300})

            def _reply(self, status: int, body: dict[str, Any]) -> None:
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        return Handler


class TokenRegistry:
    """docker-registry with token auth over ``storage`` (another registry's root directory)."""

    def __init__(self, docker_registry: Path, workdir: Path, storage: Path, tokens: TokenServer) -> None:
        self.url = f"127.0.0.1:{free_port()}"
        config = workdir / "token-registry.yml"
        config.write_text(json.dumps({
            "version": 0.1,
            "log": {"level": "warn", "accesslog": {"disabled": True}},
            "storage": {"filesystem": {"rootdirectory": str(storage)}},
            "http": {"addr": self.url, "secret": secrets.token_hex(16)},
            "auth": {"token": {"realm": tokens.realm, "service": SERVICE, "issuer": ISSUER,
                               "rootcertbundle": str(tokens.cert_file)}},
        }))
        self._server = ServerProcess("docker-registry (token auth)", [str(docker_registry), "serve", str(config)],
                                     workdir / "token-registry.log", clean_env())

    def start(self) -> None:
        self._server.start()
        self._server.wait_until(self._challenges, 60, "answering /v2/ with a bearer challenge")

    def _challenges(self) -> bool:
        try:
            return request(f"http://{self.url}/v2/", timeout=2.0).status == 401
        except OSError:
            return False

    def stop(self) -> None:
        self._server.stop()

    def logs(self) -> str:
        return self._server.log_tail()


@contextlib.contextmanager
def token_auth_registry(registry: Registry, workdir: Path, username: str, password: str,
                        identity_token: str = "") -> Iterator[tuple[TokenRegistry, TokenServer]]:
    """A token-auth registry over ``registry``'s storage, with its token server for ``username``."""
    tokens = TokenServer(workdir, username, password, identity_token)
    server = TokenRegistry(require_tool("docker-registry"), workdir, registry.workdir / "storage", tokens)
    server.start()
    try:
        yield server, tokens
    finally:
        server.stop()
        tokens.stop()
