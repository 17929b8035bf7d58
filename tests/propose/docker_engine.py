"""A real Docker engine for the tests (Debian's ``docker.io``): its own dockerd, vfs storage, no bridge,
no iptables or forwarding changes, data and sockets in throw-away directories, stopped with the test run.

Skips when ``dockerd`` is not installed or the run is not root. It resolves images through the
harness's registries on 127.0.0.1 (loopback registries are insecure-by-default to the engine).
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from pathlib import Path

import pytest

from tests.harness.process import ServerProcess
from tests.harness.tools import require_tool


class DockerEngine:
    def __init__(self, dockerd: str, workdir: Path) -> None:
        # A short root: containerd's socket path under --exec-root must fit in a unix socket name.
        self.root = Path(tempfile.mkdtemp(prefix="hd-engine-"))
        self.socket = self.root / "docker.sock"
        argv = [dockerd, "--storage-driver", "vfs", "--bridge", "none", "--iptables=false",
                "--ip-forward=false", "--ip-masq=false", "--host", f"unix://{self.socket}",
                "--data-root", str(self.root / "data"), "--exec-root", str(self.root / "exec"),
                "--pidfile", str(self.root / "dockerd.pid"), "--config-file", str(self.root / "daemon.json")]
        (self.root / "daemon.json").write_text("{}")
        self._server = ServerProcess("dockerd", argv, workdir / "dockerd.log", dict(os.environ))

    @property
    def host(self) -> str:
        return f"unix://{self.socket}"

    def start(self) -> None:
        self._server.start()
        self._server.wait_until(self._answers, 120, "answering on its socket")

    def _answers(self) -> bool:
        try:
            with socket.socket(socket.AF_UNIX) as s:
                s.settimeout(2)
                s.connect(str(self.socket))
                s.sendall(b"GET /_ping HTTP/1.0\r\n\r\n")
                return b" 200 " in s.recv(64)
        except OSError:
            return False

    def stop(self) -> None:
        self._server.stop(timeout=30)
        shutil.rmtree(self.root, ignore_errors=True)

    def logs(self) -> str:
        return self._server.log_tail()


def require_engine(workdir: Path) -> DockerEngine:
    dockerd = str(require_tool("dockerd"))  # make tools installs docker.io; CI fails without it
    if os.geteuid() != 0:
        pytest.skip("no Docker engine: dockerd needs root")
    return DockerEngine(dockerd, workdir)
