"""Bare git repositories served over smart HTTP on 127.0.0.1 by the real ``git http-backend``.

A threaded HTTP server de-chunks request bodies (git sends large pushes chunked), checks basic auth, logs every
request, and can inject faults. Concurrent pushes are safe: git's receive-pack locks refs and rejects a push whose
old value moved (a non-fast-forward push is rejected by the client, or by the server with ``deny_non_fast_forward``).
"""

import base64
import os
import secrets
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.harness.ports import free_port
from tests.harness.process import clean_env


@dataclass(frozen=True)
class LoggedRequest:
    """One request as the server received it (headers included, so tests can check where credentials went)."""

    line: str
    method: str
    path: str
    headers: dict[str, str]
    user: str | None


@dataclass
class _Faults:
    fail_remaining: int = 0
    fail_status: int = 500
    truncate_remaining: int = 0
    stall_remaining: int = 0
    stall_seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take_stall(self) -> float:
        with self.lock:
            if self.stall_remaining <= 0:
                return 0.0
            self.stall_remaining -= 1
            return self.stall_seconds

    def take_failure(self) -> int | None:
        with self.lock:
            if self.fail_remaining <= 0:
                return None
            self.fail_remaining -= 1
            return self.fail_status

    def take_truncation(self) -> bool:
        with self.lock:
            if self.truncate_remaining <= 0:
                return False
            self.truncate_remaining -= 1
            return True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # fifty concurrent clients: a full listen backlog drops connects, not requests

    def __init__(self, owner: "GitServer") -> None:
        self.owner = owner
        super().__init__(("127.0.0.1", owner.port), _Handler)

    def handle_error(self, request: object, client_address: object) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return  # the client gave up on a stalled request and closed the connection
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass  # requests are recorded in GitServer.logged instead of stderr

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _user(self) -> str | None:
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Basic "):
            return None
        try:
            user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
        except ValueError:
            return None
        owner = self.server.owner
        if secrets.compare_digest(user, owner.username or "") and secrets.compare_digest(
            password, owner.password or ""
        ):
            return user
        return None

    def _reply(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _serve(self) -> None:
        owner = self.server.owner
        body = self._read_body()
        user = self._user()
        path, _, query = self.path.partition("?")
        owner.logged.append(
            LoggedRequest(self.requestline, self.command, self.path, dict(self.headers.items()), user)
        )

        stall = owner.faults.take_stall()
        if stall:
            time.sleep(stall)  # a server that accepted the connection and then went quiet
        status = owner.faults.take_failure()
        if status is not None:
            self._reply(status, b"injected failure\n", {"Content-Type": "text/plain"})
            return
        if owner.auth_required and user is None:
            self._reply(401, b"authentication required\n", {"WWW-Authenticate": 'Basic realm="handoff-test"'})
            return

        env = clean_env(
            GIT_PROJECT_ROOT=str(owner.root),
            GIT_HTTP_EXPORT_ALL="1",
            GIT_CONFIG_NOSYSTEM="1",
            GIT_CONFIG_GLOBAL=os.devnull,
            # receive-pack's detached `gc --auto` would hold http-backend's stdout open past the push
            GIT_CONFIG_COUNT="2", GIT_CONFIG_KEY_0="receive.autogc", GIT_CONFIG_VALUE_0="false",
            GIT_CONFIG_KEY_1="gc.auto", GIT_CONFIG_VALUE_1="0",
            REQUEST_METHOD=self.command,
            PATH_INFO=path,
            QUERY_STRING=query,
            CONTENT_TYPE=self.headers.get("Content-Type", ""),
            CONTENT_LENGTH=str(len(body)),
            REMOTE_ADDR=self.client_address[0],
            REMOTE_USER=user or "anonymous",
            GIT_PROTOCOL=self.headers.get("Git-Protocol", ""),
            HTTP_CONTENT_ENCODING=self.headers.get("Content-Encoding", ""),
        )
        done = subprocess.run(
            [str(owner.git), "http-backend"], input=body, env=env, capture_output=True, check=False
        )
        head, payload = _split_cgi_output(done.stdout)
        status, headers = 200, {}
        for raw in head.decode("latin-1").splitlines():
            name, _, value = raw.partition(":")
            if name.lower() == "status":
                status = int(value.split()[0])
            elif name:
                headers[name.strip()] = value.strip()
        if done.returncode != 0 and not done.stdout:
            status, payload = 500, done.stderr
        if _carries_pack(self.command, path, body) and owner.faults.take_truncation():
            self._reply_truncated(status, payload, headers)
            return
        self._reply(status, payload, headers)

    def _reply_truncated(self, status: int, payload: bytes, headers: dict[str, str]) -> None:
        # Announce the full length, send half, then drop the connection: the client sees a cut-off pack.
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload[: len(payload) // 2])
        self.wfile.flush()
        self.close_connection = True


class GitServer:
    """Smart-HTTP git server over bare repositories in ``root``; with ``auth`` (default) basic auth is required."""

    def __init__(self, git: Path, root: Path, *, auth: bool = True) -> None:
        self.git = git
        self.root = root
        self.username: str | None = f"user-{secrets.token_hex(4)}" if auth else None
        self.password: str | None = secrets.token_urlsafe(18) if auth else None
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.logged: list[LoggedRequest] = []
        self.faults = _Faults()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def auth_required(self) -> bool:
        return self.username is not None

    @property
    def requests(self) -> list[str]:
        """Request lines (``GET /app.git/info/refs?service=git-upload-pack HTTP/1.1``) in arrival order."""
        return [r.line for r in self.logged]

    def auth_header(self) -> str:
        """The ``Authorization`` header value for this server's credentials (for ``git -c http.extraHeader=...``)."""
        token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        return f"Basic {token}"

    def start(self) -> None:
        if self._server is not None:
            return
        self._server = _Server(self)
        self._thread = threading.Thread(target=self._server.serve_forever, name="git-server", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def fail_next(self, n: int, status: int = 500) -> None:
        """Answer the next n requests with ``status`` before doing anything else."""
        with self.faults.lock:
            self.faults.fail_remaining, self.faults.fail_status = n, status

    def stall_next(self, n: int, seconds: float) -> None:
        """Hold the next n requests for ``seconds`` before answering (a slow or hung front end)."""
        with self.faults.lock:
            self.faults.stall_remaining, self.faults.stall_seconds = n, seconds

    def truncate_next_pack(self, n: int = 1) -> None:
        """Cut the next n fetch/clone pack responses in half and drop the connection."""
        with self.faults.lock:
            self.faults.truncate_remaining = n

    def bare_path(self, name: str) -> Path:
        return self.root / _repo_dir(name)

    def repo_url(self, name: str) -> str:
        return f"{self.url}/{_repo_dir(name)}"

    def create_repo(
        self,
        name: str,
        files: dict[str, str | bytes] | None = None,
        branch: str = "main",
        *,
        deny_non_fast_forward: bool = False,
    ) -> str:
        """Create a bare repo (with one commit of ``files`` on ``branch`` when given); returns its URL (no credentials).

        ``deny_non_fast_forward`` makes the server refuse forced non-fast-forward pushes too, like a protected branch.
        """
        bare = self.bare_path(name)
        env = _git_env()
        self._git(["init", "--bare", "--quiet", f"--initial-branch={branch}", str(bare)], env)
        self._git(["-C", str(bare), "config", "http.receivepack", "true"], env)
        self._git(["-C", str(bare), "config", "uploadpack.allowFilter", "true"], env)  # as GitHub/GitLab do
        if deny_non_fast_forward:
            self._git(["-C", str(bare), "config", "receive.denyNonFastForwards", "true"], env)
        if files:
            work = bare.parent / f".{bare.name}-seed"
            for rel, content in files.items():
                target = work / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                if isinstance(content, bytes):
                    target.write_bytes(content)
                else:
                    target.write_text(content)
            self._git(["init", "--quiet", f"--initial-branch={branch}", str(work)], env)
            self._git(["-C", str(work), "add", "-A"], env)
            self._git(["-C", str(work), "commit", "--quiet", "-m", "initial content"], env)
            self._git(["-C", str(work), "push", "--quiet", str(bare), f"HEAD:refs/heads/{branch}"], env)
        return self.repo_url(name)

    def _git(self, args: list[str], env: dict[str, str]) -> None:
        done = subprocess.run([str(self.git), *args], env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"git {' '.join(args)} failed ({done.returncode}):\n{done.stderr}")


def _carries_pack(method: str, path: str, body: bytes) -> bool:
    # Protocol v2 first asks for the ref list on the same endpoint; only the later fetch answers with a pack.
    return method == "POST" and path.endswith("/git-upload-pack") and b"command=ls-refs" not in body


def _split_cgi_output(output: bytes) -> tuple[bytes, bytes]:
    ends = [(i, len(sep)) for sep in (b"\r\n\r\n", b"\n\n") if (i := output.find(sep)) >= 0]
    if not ends:
        return output, b""
    index, length = min(ends)
    return output[:index], output[index + length :]


def _repo_dir(name: str) -> str:
    return name if name.endswith(".git") else f"{name}.git"


def _git_env() -> dict[str, str]:
    return clean_env(
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_AUTHOR_NAME="handoff test",
        GIT_AUTHOR_EMAIL="test@handoff.invalid",
        GIT_COMMITTER_NAME="handoff test",
        GIT_COMMITTER_EMAIL="test@handoff.invalid",
    )
