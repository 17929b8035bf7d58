"""Registry credentials the way the Docker CLI (and so every CI job) keeps them: ``config.json``.

Read from ``$DOCKER_CONFIG/config.json`` (default ``~/.docker/config.json``). As in the Docker CLI, a
registry listed in ``credHelpers`` asks that helper; otherwise ``credsStore`` (the default helper) is
asked; otherwise ``auths`` holds the credentials inline (``auth`` = base64 ``user:password``, or
``identitytoken``). A helper is ``docker-credential-NAME get`` with the server URL on stdin and
``{"ServerURL", "Username", "Secret"}`` on stdout (the docker-credential-helpers protocol: the ECR,
GCR/Artifact Registry and ACR helpers work this way); its "credentials not found" answer means anonymous.
The secret travels only through the helper's stdout, never argv, a URL or a log line.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from handoff import toolrun
from handoff.errors import RegistryError
from handoff.redact import redact, register

DOCKER_HUB_SERVER = "https://index.docker.io/v1/"
HELPER_TIMEOUT_SECONDS = 60.0
MAX_HELPER_OUTPUT = 64 * 1024
# The helpers' username for an OAuth2 refresh token (docker/cli's tokenUsername).
_TOKEN_USERNAME = "<token>"  # noqa: S105 (a marker, not a secret)
_NOT_FOUND = "credentials not found"


@dataclass(frozen=True)
class Credentials:
    username: str = ""
    password: str = ""
    identity_token: str = ""

    def __post_init__(self) -> None:
        register(self.password)
        register(self.identity_token)

    def __repr__(self) -> str:
        return f"Credentials(username={self.username!r}, password='***')"


def docker_credentials(host: str, env: Mapping[str, str] | None = None) -> Credentials | None:
    """Credentials for registry ``host`` (as ``registry_host`` names it) from Docker's config, or None."""
    e = os.environ if env is None else env
    config_dir = Path(e["DOCKER_CONFIG"]) if e.get("DOCKER_CONFIG") else Path.home() / ".docker"
    path = config_dir / "config.json"
    try:
        # utf-8-sig: a config.json written by Windows PowerShell starts with a BOM.
        text = path.read_text(encoding="utf-8-sig")
        # An empty file is no configuration, as the Docker CLI reads it (it stops at EOF).
        data = json.loads(text) if text.strip() else {}
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as err:
        raise RegistryError(f"cannot read docker credentials: {err}", file=str(path)) from err
    if not isinstance(data, dict):
        raise RegistryError("docker credentials: config.json is not a JSON object", file=str(path))
    aliases = _aliases(host)
    helper = _lookup(data.get("credHelpers"), aliases) or data.get("credsStore")
    if isinstance(helper, str) and helper:
        return _from_helper(helper, _server_url(host), e)
    entry = _lookup(data.get("auths"), aliases) or _lookup_legacy(data.get("auths"), host)
    return _from_auths_entry(entry, path, host) if isinstance(entry, dict) else None


def _aliases(host: str) -> set[str]:
    names = {host, f"https://{host}", f"http://{host}"}
    if host == "registry-1.docker.io":
        names |= {"docker.io", "index.docker.io", "https://index.docker.io", DOCKER_HUB_SERVER}
    return names


def _server_url(host: str) -> str:
    # What `docker login` stored the credentials under: Docker Hub's legacy URL, else the bare host.
    return DOCKER_HUB_SERVER if host == "registry-1.docker.io" else host


def _lookup(table: Any, aliases: set[str]) -> Any:
    if not isinstance(table, dict):
        return None
    for key, value in table.items():
        if key in aliases or key.rstrip("/") in aliases:
            return value
    return None


def _lookup_legacy(table: Any, host: str) -> Any:
    """An ``auths`` key written with a scheme and a path (``https://ghcr.io/v1/``, older ``docker login``s):
    the Docker CLI compares its host part only (``ConvertToHostname``)."""
    if not isinstance(table, dict):
        return None
    for key, value in table.items():
        if isinstance(key, str) and key.split("://", 1)[-1].split("/", 1)[0].lower() == host:
            return value
    return None


def _from_auths_entry(entry: Mapping[str, Any], path: Path, host: str) -> Credentials | None:
    if entry.get("identitytoken"):
        return Credentials(identity_token=str(entry["identitytoken"]))
    if entry.get("auth"):
        try:
            user, _, password = base64.b64decode(str(entry["auth"]), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError) as err:
            raise RegistryError(f"docker credentials: auths[{host!r}].auth is not base64 user:password",
                                file=str(path), key=f"auths.{host}.auth") from err
        return Credentials(user, password)
    if entry.get("username"):
        return Credentials(str(entry["username"]), str(entry.get("password", "")))
    return None


def _from_helper(name: str, server_url: str, env: Mapping[str, str]) -> Credentials | None:
    program = f"docker-credential-{name}"
    found = shutil.which(program, path=env.get("PATH", os.defpath))
    if found is None:
        raise RegistryError(f"docker credential helper {program} (from config.json) is not on PATH")
    timeout = helper_timeout(env)
    try:
        done = toolrun.run([found, "get"], input_bytes=server_url.encode(), env=env, timeout=timeout,
                           max_stdout=MAX_HELPER_OUTPUT)
    except toolrun.TimedOut as err:
        raise RegistryError(f"docker credential helper {program} timed out after {timeout:g} s "
                            "(HANDOFF_CREDENTIAL_HELPER_TIMEOUT); killed") from err
    except toolrun.OutputTooLarge as err:
        raise RegistryError(f"docker credential helper {program} printed more than "
                            f"{MAX_HELPER_OUTPUT // 1024} KiB; killed") from err
    except OSError as err:
        raise RegistryError(f"docker credential helper {program} failed: {err}") from err
    out = done.stdout.decode(errors="replace")
    if done.returncode != 0:
        said = (out.strip() or done.stderr[:MAX_HELPER_OUTPUT].decode(errors="replace").strip())
        if _NOT_FOUND in said.lower():
            return None
        # Redact anyway: a failing helper may echo what it was given or found.
        last = said.splitlines()[-1] if said else "no output"
        raise RegistryError(redact(f"docker credential helper {program} failed for {server_url} "
                                   f"(exit {done.returncode}): {last}"))
    return _parse_helper_answer(out, program)


def helper_timeout(env: Mapping[str, str]) -> float:
    """``HANDOFF_CREDENTIAL_HELPER_TIMEOUT`` seconds, else 60 (a cloud helper may fetch a token first)."""
    raw = env.get("HANDOFF_CREDENTIAL_HELPER_TIMEOUT", "").strip()
    try:
        seconds = float(raw) if raw else HELPER_TIMEOUT_SECONDS
    except ValueError as err:
        raise RegistryError(f"HANDOFF_CREDENTIAL_HELPER_TIMEOUT={raw!r} is not a number of seconds") from err
    return seconds if seconds > 0 else HELPER_TIMEOUT_SECONDS


def _parse_helper_answer(out: str, program: str) -> Credentials | None:
    try:
        answer = json.loads(out)
    except ValueError as err:
        raise RegistryError(f"docker credential helper {program} did not answer JSON") from err
    if not isinstance(answer, dict):
        raise RegistryError(f"docker credential helper {program} did not answer a JSON object")
    username, secret = str(answer.get("Username") or ""), str(answer.get("Secret") or "")
    if not secret:
        return None
    if username == _TOKEN_USERNAME:
        return Credentials(identity_token=secret)
    return Credentials(username, secret)
