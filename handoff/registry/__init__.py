"""Image registries: does a tag exist, and what is its digest (``handoff propose --resolve-digest``).

Two ways to ask, one answer (``Resolved``): the registry's OCI distribution API directly (``client``,
the default), or a Docker engine (``engine``, ``HANDOFF_RESOLVE_VIA=docker``). Both take credentials
from Docker's ``config.json`` and its credential helpers (``credentials``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Protocol

from handoff.errors import UsageError
from handoff.imageref import ImageRef
from handoff.registry.client import RegistryClient, Resolved
from handoff.registry.credentials import Credentials, docker_credentials
from handoff.registry.engine import EngineResolver

__all__ = ["Credentials", "EngineResolver", "RegistryClient", "Resolved", "Resolver", "digest_resolver",
           "docker_credentials"]

RESOLVE_VIA_ENV = "HANDOFF_RESOLVE_VIA"


class Resolver(Protocol):
    def resolve(self, ref: ImageRef) -> Resolved: ...


def digest_resolver(env: Mapping[str, str] | None = None) -> Resolver:
    """The resolver ``$HANDOFF_RESOLVE_VIA`` names: ``registry`` (default) or ``docker`` (the engine)."""
    e = os.environ if env is None else env
    via = e.get(RESOLVE_VIA_ENV, "").strip().lower() or "registry"
    if via == "registry":
        return RegistryClient(env=env)
    if via == "docker":
        return EngineResolver(env=env)
    raise UsageError(f"{RESOLVE_VIA_ENV}={via!r}: expected 'registry' or 'docker'")
