"""Where the API server is and how to prove who we are: a :class:`Connection`, from a kubeconfig
(``kubeconfig.load_kubeconfig``) or from the Pod's ServiceAccount (:func:`in_cluster_connection`)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from handoff.errors import ConfigError
from handoff.kube.credentials import ClientCert, Credential, Credentials, StaticCredentials, TokenFile
from handoff.kube.tls import TlsSettings

IN_CLUSTER_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")


@dataclass(frozen=True)
class Connection:
    server: str
    token: str | None = None
    ca_file: str | None = None
    client_cert: tuple[str, str] | None = None  # files
    verify: bool = True
    ca_pem: bytes | None = None
    client_cert_pem: ClientCert | None = None
    tls_server_name: str | None = None
    proxy_url: str | None = None
    # shared by every client on this connection (impersonating ones too): one token cache, one plugin run
    credentials: Credentials | None = field(default=None, compare=False, repr=False)

    def credential_source(self) -> Credentials:
        return self.credentials or StaticCredentials(Credential(token=self.token))

    def tls(self) -> TlsSettings:
        return TlsSettings(verify=self.verify, ca_file=self.ca_file, ca_pem=self.ca_pem,
                           client_cert_files=self.client_cert, client_cert=self.client_cert_pem,
                           server_name=self.tls_server_name)


def in_cluster_connection(directory: Path = IN_CLUSTER_DIR) -> Connection:
    """The Pod's ServiceAccount: its token file is re-read as the kubelet rotates it."""
    host = os.environ.get("KUBERNETES_SERVICE_HOST")
    port = os.environ.get("KUBERNETES_SERVICE_PORT", "443")
    if not host:
        raise ConfigError("no --kubeconfig given and not running in a cluster "
                          "(KUBERNETES_SERVICE_HOST unset)")
    host = f"[{host}]" if ":" in host else host
    tokens = TokenFile(directory / "token", file=str(directory / "token"), key="in-cluster token")
    tokens.current()  # a Pod without a mounted token fails now, with the path, not at the first request
    return Connection(server=f"https://{host}:{port}", ca_file=str(directory / "ca.crt"), credentials=tokens)
