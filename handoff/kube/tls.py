"""The TLS side of a connection: one ``ssl.SSLContext`` per (cluster, client certificate).

The CA and the client certificate are loaded into the context rather than handed to requests as paths:
the CA from memory, a client certificate given as ``-data`` (or by an exec plugin) through a private
0700 directory that is removed as soon as OpenSSL has read it (OpenSSL reads keys only from files), so
no key outlives the call that loads it. ``tls-server-name`` sets SNI and the name checked.
"""

from __future__ import annotations

import shutil
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from requests.adapters import HTTPAdapter

from handoff.kube.credentials import ClientCert


@dataclass(frozen=True)
class TlsSettings:
    verify: bool = True
    ca_file: str | None = None
    ca_pem: bytes | None = None
    client_cert_files: tuple[str, str] | None = None
    client_cert: ClientCert | None = None
    server_name: str | None = None


def load_client_cert(context: ssl.SSLContext, cert: ClientCert) -> None:
    """Load a PEM certificate and key into ``context``; the files OpenSSL needs exist only meanwhile."""
    scratch = Path(tempfile.mkdtemp(prefix="handoff-kube-"))  # mkdtemp: mode 0700
    try:
        cert_file, key_file = scratch / "client.crt", scratch / "client.key"
        for path, data in ((cert_file, cert.cert_pem), (key_file, cert.key_pem)):
            path.touch(mode=0o600)
            path.write_bytes(data)
        context.load_cert_chain(str(cert_file), str(key_file))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def ssl_context(tls: TlsSettings, dynamic_cert: ClientCert | None = None) -> ssl.SSLContext:
    """The context for ``tls`` (the system CAs when the kubeconfig names none); ``dynamic_cert`` (an exec
    plugin's) takes the place of the static one."""
    context = ssl.create_default_context(cafile=None if tls.ca_pem else tls.ca_file,
                                         cadata=tls.ca_pem.decode("ascii") if tls.ca_pem else None)
    if not tls.verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    cert = dynamic_cert or tls.client_cert
    if cert is not None:
        load_client_cert(context, cert)
    elif tls.client_cert_files is not None:
        context.load_cert_chain(*tls.client_cert_files)
    return context


class TlsAdapter(HTTPAdapter):
    """An ``HTTPAdapter`` whose connections use one prepared context (requests' own CA handling would
    add the certifi bundle to it) and, when set, ``server_hostname`` for SNI and the name check."""

    def __init__(self, context: ssl.SSLContext, server_name: str | None, **kwargs: Any) -> None:
        self._context = context
        self._server_name = server_name
        super().__init__(**kwargs)

    def _tls_kwargs(self) -> dict[str, Any]:
        extra: dict[str, Any] = {"ssl_context": self._context}
        if self._server_name:
            extra["server_hostname"] = self._server_name
        return extra

    def init_poolmanager(self, connections: int, maxsize: int, block: bool = False,
                         **pool_kwargs: Any) -> None:
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs, **self._tls_kwargs())

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        return super().proxy_manager_for(proxy, **proxy_kwargs, **self._tls_kwargs())  # the tunnelled TLS

    def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
        conn.cert_reqs = "CERT_REQUIRED" if verify else "CERT_NONE"
