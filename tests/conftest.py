"""Suite-wide setup: the real-component fixtures, and a sandbox so no test touches your home or a real service."""

import ipaddress
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest_plugins = ["tests.harness.fixtures"]

# Variables that would point handoff at a real forge, cluster or CI job when tests run inside one.
_ENV_PREFIXES_TO_DROP = ("GITHUB_", "GITLAB_", "CI_", "RUNNER_", "JENKINS_", "BITBUCKET_")
_ENV_TO_DROP = ("CI", "GH_TOKEN", "GH_HOST", "BUILD_URL", "GIT_ASKPASS", "SSH_ASKPASS", "SSH_AUTH_SOCK")


def _is_local(address: Any) -> bool:
    if not isinstance(address, tuple):
        return True  # AF_UNIX paths and the like
    host = address[0]
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def sandbox(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A throw-away HOME and git identity, no forge/CI/cluster credentials, and connections only to 127.0.0.1."""
    home = tmp_path_factory.mktemp("home")
    for name in list(os.environ):
        if name.startswith(_ENV_PREFIXES_TO_DROP) or name in _ENV_TO_DROP or name.lower().endswith("_proxy"):
            monkeypatch.delenv(name)
    gitconfig = home / ".gitconfig"
    gitconfig.write_text(
        "[user]\n\tname = handoff test\n\temail = test@handoff.invalid\n[init]\n\tdefaultBranch = main\n"
    )
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(gitconfig))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_TERMINAL_PROMPT", "0")
    monkeypatch.setenv("KUBECONFIG", str(home / ".kube" / "no-such-config"))

    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def guarded_connect(sock: socket.socket, address: Any) -> None:
        if not _is_local(address):
            raise ConnectionRefusedError(f"tests may only connect to 127.0.0.1, not {address!r}")
        real_connect(sock, address)

    def guarded_connect_ex(sock: socket.socket, address: Any) -> int:
        if not _is_local(address):
            raise ConnectionRefusedError(f"tests may only connect to 127.0.0.1, not {address!r}")
        return real_connect_ex(sock, address)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", guarded_connect_ex)
    yield home
