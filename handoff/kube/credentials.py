"""Where a request's credential comes from: a fixed token, a token file the kubelet rotates, or an exec
plugin (``execcred``). Each source hands out the current :class:`Credential` and, after the API server
answered 401 to one, tries once to get a newer one."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from handoff.kube.errors import CredentialError
from handoff.redact import register


@dataclass(frozen=True)
class ClientCert:
    """A client certificate and its key, PEM, as an exec plugin hands them out."""

    cert_pem: bytes
    key_pem: bytes


@dataclass(frozen=True)
class Credential:
    token: str | None = None
    client_cert: ClientCert | None = None


class Credentials(Protocol):
    def current(self) -> Credential:
        """The credential to send now (read or fetched anew when the cached one is stale)."""

    def refresh(self, rejected: Credential) -> bool:
        """The API server answered 401 to ``rejected``: fetch anew; True when the result differs."""


class StaticCredentials:
    """A token (or nothing) fixed in the kubeconfig: a 401 cannot be cured by asking again."""

    def __init__(self, credential: Credential) -> None:
        if credential.token:
            register(credential.token)
        self._credential = credential

    def current(self) -> Credential:
        return self._credential

    def refresh(self, rejected: Credential) -> bool:
        return False


def _stat_key(stat: os.stat_result) -> tuple[int, int, int, int]:
    return (stat.st_dev, stat.st_ino, stat.st_mtime_ns, stat.st_size)


class TokenFile:
    """A bearer token file re-read whenever it changes: the kubelet rewrites a projected ServiceAccount
    token (an atomic symlink swap, so a new inode) well before it expires, and a client that read it once
    is locked out an hour later. One ``stat`` per request notices; a 401 forces a re-read even when the
    file kept its inode, size and mtime."""

    def __init__(self, path: Path, *, file: str, key: str) -> None:
        self.path = path
        self._where = (file, key)
        self._lock = threading.Lock()
        self._seen: tuple[int, int, int, int] | None = None
        self._credential = Credential()

    def _read(self) -> Credential:
        try:
            token = self.path.read_text(encoding="utf-8").strip()
        except OSError as e:
            raise CredentialError(f"cannot read token file {self.path}: {e.strerror}",
                                  file=self._where[0], key=self._where[1]) from e
        if token:
            register(token)
        return Credential(token=token or None)

    def current(self) -> Credential:
        try:
            seen: tuple[int, int, int, int] | None = _stat_key(self.path.stat())
        except OSError:
            seen = None  # _read names the failure
        with self._lock:
            if seen is None or seen != self._seen:
                self._credential = self._read()
                self._seen = seen
            return self._credential

    def refresh(self, rejected: Credential) -> bool:
        with self._lock:
            self._credential = self._read()
            return self._credential != rejected
