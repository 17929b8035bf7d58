"""Digest resolution through a Docker engine (the ``docker`` SDK, the ``docker`` extra).

The engine asks the registry itself (``GET /distribution/NAME/json``), so its registry mirrors, proxy
and ``insecure-registries`` apply, as they do to a ``docker pull`` in the same CI job. Credentials are
the same ``config.json`` lookup as the direct client's (``handoff.registry.credentials``), sent to the
engine in the ``X-Registry-Auth`` header, never in argv or a URL. The engine is found as the Docker CLI
finds it: ``DOCKER_HOST`` (and ``DOCKER_TLS_VERIFY``/``DOCKER_CERT_PATH``), else the local socket.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping
from typing import Any

from handoff.errors import RegistryError, ToolMissingError
from handoff.imageref import ImageRef
from handoff.redact import redact
from handoff.registry.client import Resolved, check_digest, registry_host
from handoff.registry.credentials import Credentials, docker_credentials


def _docker() -> Any:
    try:
        return importlib.import_module("docker")
    except ImportError as e:  # the `docker` extra is optional
        raise ToolMissingError("resolving through the Docker engine needs the docker SDK: "
                               "pip install 'handoff-gitops[docker]'") from e


def auth_config(creds: Credentials | None) -> dict[str, str]:
    """The engine's AuthConfig: empty for anonymous, never None (on None the SDK reads config.json)."""
    if creds is None:
        return {}
    if creds.identity_token:
        return {"identitytoken": creds.identity_token}
    return {"username": creds.username, "password": creds.password}


class EngineResolver:
    def __init__(self, *, timeout: float = 60.0, env: Mapping[str, str] | None = None) -> None:
        self._timeout = timeout
        self._env = env

    def resolve(self, ref: ImageRef) -> Resolved:
        """Check that ``ref``'s tag (or digest) exists, asking the engine, and return its manifest digest."""
        docker = _docker()
        env = dict(os.environ if self._env is None else self._env)
        host = registry_host(ref)
        name = f"{ref.name}@{ref.digest}" if ref.digest else f"{ref.name}:{ref.tag or 'latest'}"
        creds = docker_credentials(host, env)
        try:
            client = docker.from_env(environment=env, timeout=int(self._timeout))
        except docker.errors.DockerException as e:
            raise RegistryError(redact(f"cannot reach the Docker engine: {e}")) from e
        try:
            answer = client.api.inspect_distribution(name, auth_config=auth_config(creds))
        except docker.errors.NotFound as e:
            raise RegistryError(f"image {ref} not found in the registry (the Docker engine: "
                                f"{redact(str(e.explanation or e))})") from e
        except docker.errors.APIError as e:
            why = redact(str(e.explanation or e))
            raise RegistryError(f"the Docker engine could not resolve {ref}: {why}") from e
        except docker.errors.DockerException as e:
            raise RegistryError(redact(f"cannot reach the Docker engine: {e}")) from e
        finally:
            client.close()
        descriptor = answer.get("Descriptor") if isinstance(answer, dict) else None
        if not isinstance(descriptor, dict):
            raise RegistryError(f"the Docker engine sent no descriptor for {ref}")
        digest = str(descriptor.get("digest", ""))
        check_digest(ref, host, digest)
        return Resolved(ref, digest, str(descriptor.get("mediaType", "")))
