"""Reading a kubeconfig into a :class:`Connection`, as kubectl reads it: tokens, token files, client
certificates and CAs (files or ``-data``), ``insecure-skip-tls-verify``, ``tls-server-name``,
``proxy-url`` and
``exec`` plugins. Relative paths are relative to the kubeconfig's directory. Every error names the file
and the key (``contexts[prod].context.user``)."""

from __future__ import annotations

import base64
import binascii
import ssl
import urllib.parse
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from handoff.errors import ConfigError, YamlError
from handoff.kube.connection import Connection
from handoff.kube.credentials import ClientCert, Credential, Credentials, StaticCredentials, TokenFile
from handoff.kube.errors import CredentialError
from handoff.kube.execcred import ExecPlugin, cluster_info, parse_exec
from handoff.kube.tls import ssl_context
from handoff.manifests import yamlio


def _named(doc: Mapping[str, Any], section: str, name: str, field: str, *, file: str,
           key: str) -> Mapping[str, Any]:
    for entry in doc.get(section) or []:
        if isinstance(entry, Mapping) and entry.get("name") == name:
            body = entry.get(field) or {}
            if not isinstance(body, Mapping):
                raise ConfigError(f"{section}[{name}].{field} must be a mapping", file=file, key=key)
            return body
    raise ConfigError(f"no {section[:-1]} named {name!r}", file=file, key=key)


class _Reader:
    """One kubeconfig file: lookups that turn a missing or malformed key into a ConfigError."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.file = str(path)

    def error(self, message: str, key: str) -> ConfigError:
        return ConfigError(message, file=self.file, key=key)

    def local_path(self, value: Any) -> Path:
        path = Path(str(value))
        return path if path.is_absolute() else self.path.parent / path

    def pem(self, obj: Mapping[str, Any], name: str, where: str) -> bytes | None:
        """``name-data`` decoded, or the file ``name`` read, or None."""
        if obj.get(f"{name}-data"):
            try:
                return base64.b64decode(str(obj[f"{name}-data"]), validate=True)
            except (binascii.Error, ValueError) as e:
                raise self.error("is not valid base64", f"{where}.{name}-data") from e
        if obj.get(name):
            path = self.local_path(obj[name])
            try:
                return path.read_bytes()
            except OSError as e:
                raise self.error(f"cannot read {path}: {e.strerror}", f"{where}.{name}") from e
        return None


def load_kubeconfig(path: Path, context: str | None = None) -> Connection:
    """Read a kubeconfig file for ``context`` (default: its current-context)."""
    reader = _Reader(path)
    try:
        _, documents = yamlio.load_file(path, display=str(path))  # bounded, as every YAML file
    except YamlError as e:
        raise ConfigError(f"cannot read kubeconfig: {e.message}", file=str(path), line=e.line) from e
    doc = yamlio.to_data(next((d for d in documents if d is not None), None)) or {}
    if not isinstance(doc, Mapping):
        raise reader.error("a kubeconfig must be a mapping", "(root)")
    ctx_name = context or doc.get("current-context")
    if not ctx_name:
        raise reader.error("incomplete kubeconfig: no current-context and no --context", "current-context")
    ctx = _named(doc, "contexts", str(ctx_name), "context", file=reader.file, key="contexts")
    cluster_name, user_name = ctx.get("cluster"), ctx.get("user")
    if not cluster_name:
        raise reader.error("incomplete kubeconfig: missing cluster", f"contexts[{ctx_name}].context.cluster")
    cluster = _named(doc, "clusters", str(cluster_name), "cluster", file=reader.file,
                     key=f"contexts[{ctx_name}].context.cluster")
    user: Mapping[str, Any] = {}
    if user_name:
        user = _named(doc, "users", str(user_name), "user", file=reader.file,
                      key=f"contexts[{ctx_name}].context.user")
    where_cluster, where_user = f"clusters[{cluster_name}].cluster", f"users[{user_name}].user"
    if not cluster.get("server"):
        raise reader.error("incomplete kubeconfig: missing server", f"{where_cluster}.server")
    if user.get("auth-provider"):
        raise reader.error("auth-provider plugins were removed from kubectl (1.26); use an exec plugin "
                           "(gke-gcloud-auth-plugin, kubelogin)", f"{where_user}.auth-provider")

    proxy_url = str(cluster["proxy-url"]) if cluster.get("proxy-url") else None
    if proxy_url and urllib.parse.urlsplit(proxy_url).scheme not in ("http", "https"):
        raise reader.error("only http:// and https:// proxies are supported", f"{where_cluster}.proxy-url")
    ca_pem = reader.pem(cluster, "certificate-authority", where_cluster)
    cert_pem = reader.pem(user, "client-certificate", where_user)
    key_pem = reader.pem(user, "client-key", where_user)
    if bool(cert_pem) != bool(key_pem):
        missing = "client-key" if cert_pem else "client-certificate"
        raise reader.error("a client certificate needs both client-certificate and client-key",
                           f"{where_user}.{missing}")
    conn = Connection(
        server=str(cluster["server"]).rstrip("/"),
        token=str(user["token"]) if user.get("token") else None,
        ca_pem=ca_pem,
        client_cert_pem=ClientCert(cert_pem, key_pem) if cert_pem and key_pem else None,
        verify=not cluster.get("insecure-skip-tls-verify", False),
        tls_server_name=str(cluster["tls-server-name"]) if cluster.get("tls-server-name") else None,
        proxy_url=proxy_url,
        credentials=_credentials(reader, user, cluster, ca_pem, where_user),
    )
    try:  # a CA or key OpenSSL cannot load is the kubeconfig's fault: say so now, naming the entry
        ssl_context(conn.tls())
    except (ssl.SSLError, ValueError) as e:
        raise reader.error(f"unusable certificate or key: {e}", f"{where_cluster} / {where_user}") from e
    return conn


def _credentials(reader: _Reader, user: Mapping[str, Any], cluster: Mapping[str, Any], ca_pem: bytes | None,
                 where: str) -> Credentials:
    if user.get("exec"):
        config = parse_exec(user["exec"], base=reader.path.parent, file=reader.file, key=f"{where}.exec")
        return ExecPlugin(config, cluster_info(cluster, ca_pem))
    if user.get("token"):
        return StaticCredentials(Credential(token=str(user["token"])))
    if user.get("tokenFile"):
        tokens = TokenFile(reader.local_path(user["tokenFile"]), file=reader.file, key=f"{where}.tokenFile")
        try:
            tokens.current()
        except CredentialError as e:  # unreadable when the kubeconfig is loaded: the kubeconfig is wrong
            raise reader.error(e.message, f"{where}.tokenFile") from e
        return tokens
    return StaticCredentials(Credential())
