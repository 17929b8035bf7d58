"""kubeconfig ``exec`` credential plugins (``client.authentication.k8s.io`` v1 and v1beta1), as
``aws eks get-token``, ``gke-gcloud-auth-plugin`` and ``kubelogin`` are run by kubectl.

The plugin is the operator's, not repository content: it gets the user's environment plus the
kubeconfig's ``env``, and ``KUBERNETES_EXEC_INFO``. handoff runs it without a terminal
(``interactive: false``), so ``interactiveMode: Always`` is refused. Its credential (a token, or a
client certificate and key) is cached until ``expirationTimestamp`` and fetched anew after that or
after a 401.
"""

from __future__ import annotations

import base64
import datetime
import json
import os
import shutil
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from handoff.errors import ConfigError
from handoff.kube.credentials import ClientCert, Credential
from handoff.kube.errors import CredentialError
from handoff.redact import register
from handoff.toolrun import OutputTooLarge, TimedOut, run

API_VERSIONS = ("client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1")
INTERACTIVE_MODES = ("Never", "IfAvailable", "Always")
PLUGIN_TIMEOUT = 120.0
MAX_OUTPUT = 1 << 20


@dataclass(frozen=True)
class ExecConfig:
    api_version: str
    command: str
    args: tuple[str, ...]
    env: tuple[tuple[str, str], ...]
    provide_cluster_info: bool
    file: str
    key: str


def parse_exec(spec: Any, *, base: Path, file: str, key: str) -> ExecConfig:
    """Check a kubeconfig ``user.exec`` block; a missing plugin is found now, not at the first request."""
    def bad(message: str, sub: str = "") -> ConfigError:
        return ConfigError(message, file=file, key=f"{key}.{sub}" if sub else key)

    if not isinstance(spec, Mapping):
        raise bad("exec must be a mapping")
    api_version = str(spec.get("apiVersion") or "")
    if api_version not in API_VERSIONS:
        raise bad(f"unsupported exec apiVersion {api_version!r} (supported: {', '.join(API_VERSIONS)})",
                  "apiVersion")
    mode = spec.get("interactiveMode")
    if mode is None and api_version.endswith("/v1"):
        raise bad("interactiveMode must be set for client.authentication.k8s.io/v1", "interactiveMode")
    if mode is not None and mode not in INTERACTIVE_MODES:
        raise bad(f"interactiveMode must be one of {', '.join(INTERACTIVE_MODES)}", "interactiveMode")
    if mode == "Always":
        raise bad("interactiveMode Always needs a terminal; handoff runs exec plugins non-interactively",
                  "interactiveMode")
    command = str(spec.get("command") or "")
    if not command:
        raise bad("exec.command is empty", "command")
    env = tuple((str(e["name"]), str(e.get("value", ""))) for e in spec.get("env") or []
                if isinstance(e, Mapping) and "name" in e)
    args = spec.get("args") or []
    if not isinstance(args, list):
        raise bad("args must be a list", "args")
    return ExecConfig(api_version=api_version, command=_resolve(command, base, dict(env), spec, bad),
                      args=tuple(str(a) for a in args), env=env,
                      provide_cluster_info=bool(spec.get("provideClusterInfo")), file=file, key=key)


def _resolve(command: str, base: Path, env: Mapping[str, str], spec: Mapping[str, Any],
             bad: Callable[[str, str], ConfigError]) -> str:
    if os.sep in command:  # as client-go: a path with a separator is relative to the kubeconfig
        path = Path(command) if Path(command).is_absolute() else base / command
        if os.access(path, os.X_OK) and path.is_file():
            return str(path)
    else:
        found = shutil.which(command, path=env.get("PATH", os.environ.get("PATH", os.defpath)))
        if found:
            return found
    hint = f" ({' '.join(str(spec['installHint']).split())})" if spec.get("installHint") else ""
    raise bad(f"exec plugin {command!r} not found or not executable{hint}", "command")


def _timestamp(value: Any) -> datetime.datetime | None:
    if value in (None, ""):
        return None
    stamp = datetime.datetime.fromisoformat(str(value))
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=datetime.UTC)


class ExecPlugin:
    """The credential source of one kubeconfig user with an ``exec`` block."""

    def __init__(self, config: ExecConfig, cluster_info: Mapping[str, Any]) -> None:
        self.config = config
        self._cluster_info = dict(cluster_info)
        self._lock = threading.Lock()
        self._credential: Credential | None = None
        self._expires: datetime.datetime | None = None

    def _fail(self, message: str) -> CredentialError:
        return CredentialError(f"exec plugin {Path(self.config.command).name}: {message}",
                               file=self.config.file, key=self.config.key)

    def _exec_info(self) -> str:
        spec: dict[str, Any] = {"interactive": False}
        if self.config.provide_cluster_info:
            spec["cluster"] = self._cluster_info
        return json.dumps({"apiVersion": self.config.api_version, "kind": "ExecCredential", "spec": spec})

    def _run(self) -> tuple[Credential, datetime.datetime | None]:
        env = dict(os.environ)
        env.update(self.config.env)
        env["KUBERNETES_EXEC_INFO"] = self._exec_info()
        try:
            done = run([self.config.command, *self.config.args], env=env, timeout=PLUGIN_TIMEOUT,
                       max_stdout=MAX_OUTPUT)
        except TimedOut as e:
            raise self._fail(f"timed out after {e.timeout:g}s") from e
        except OutputTooLarge as e:
            raise self._fail(f"wrote more than {e.cap} bytes") from e
        except OSError as e:
            raise self._fail(f"cannot start: {e.strerror}") from e
        if done.returncode != 0:
            tail = done.stderr.decode("utf-8", "replace").strip().splitlines()
            raise self._fail(f"exited {done.returncode}" + (f": {tail[-1][:300]}" if tail else ""))
        return self._parse(done.stdout)

    def _parse(self, stdout: bytes) -> tuple[Credential, datetime.datetime | None]:
        try:
            out = json.loads(stdout)
        except ValueError as e:
            raise self._fail("did not print an ExecCredential (not JSON)") from e
        if not isinstance(out, dict) or out.get("kind") != "ExecCredential":
            raise self._fail("did not print an ExecCredential (kind is not ExecCredential)")
        if out.get("apiVersion") != self.config.api_version:
            raise self._fail(f"printed apiVersion {out.get('apiVersion')!r}, "
                             f"the kubeconfig asks for {self.config.api_version}")
        status = out.get("status")
        if not isinstance(status, dict):
            raise self._fail("ExecCredential has no status")
        token = status.get("token")
        cert, key = status.get("clientCertificateData"), status.get("clientKeyData")
        if bool(cert) != bool(key):
            raise self._fail("ExecCredential status needs both clientCertificateData and clientKeyData")
        if not token and not cert:
            raise self._fail("ExecCredential status has neither a token nor a client certificate")
        try:
            expires = _timestamp(status.get("expirationTimestamp"))
        except ValueError as e:
            raise self._fail("ExecCredential status.expirationTimestamp is not an RFC 3339 time") from e
        if token:
            register(str(token))
        client_cert = ClientCert(str(cert).encode(), str(key).encode()) if cert else None
        return Credential(token=str(token) if token else None, client_cert=client_cert), expires

    def _fresh(self) -> bool:
        if self._credential is None:
            return False
        return self._expires is None or datetime.datetime.now(datetime.UTC) < self._expires

    def current(self) -> Credential:
        with self._lock:
            if self._credential is None or not self._fresh():
                self._credential, self._expires = self._run()
            return self._credential

    def refresh(self, rejected: Credential) -> bool:
        with self._lock:
            if self._credential == rejected or self._credential is None:
                self._credential, self._expires = self._run()
            return self._credential != rejected


def cluster_info(cluster: Mapping[str, Any], ca_pem: bytes | None) -> dict[str, Any]:
    """``spec.cluster`` of ``KUBERNETES_EXEC_INFO`` (``provideClusterInfo: true``), as client-go builds it."""
    info: dict[str, Any] = {"server": str(cluster.get("server", ""))}
    for key in ("tls-server-name", "insecure-skip-tls-verify", "proxy-url", "disable-compression"):
        if cluster.get(key):
            info[key] = cluster[key]
    if ca_pem:
        info["certificate-authority-data"] = base64.b64encode(ca_pem).decode("ascii")
    for ext in cluster.get("extensions") or []:
        if isinstance(ext, Mapping) and ext.get("name") == "client.authentication.k8s.io/exec":
            info["config"] = ext.get("extension")
    return info
