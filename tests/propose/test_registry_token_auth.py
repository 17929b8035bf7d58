"""The bearer-token flow (Docker Hub / GHCR / GitLab registry style) against a real registry that validates
real JWTs, with credentials from a docker ``config.json``."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from handoff.errors import RegistryError
from handoff.imageref import parse
from handoff.registry import RegistryClient
from tests.harness.registry import Registry
from tests.propose.token_registry import SERVICE, TokenRegistry, TokenServer, token_auth_registry

USER, PASSWORD = "ci-bot", "registry-Pass-0123456789"


@pytest.fixture
def token_registry(registry: Registry, tmp_path: Path) -> Iterator[tuple[TokenRegistry, TokenServer]]:
    with token_auth_registry(registry, tmp_path, USER, PASSWORD) as served:
        yield served


def docker_config(tmp_path: Path, host: str, password: str) -> dict[str, str]:
    auth = base64.b64encode(f"{USER}:{password}".encode()).decode()
    (tmp_path / "docker").mkdir(exist_ok=True)
    (tmp_path / "docker" / "config.json").write_text(json.dumps({"auths": {host: {"auth": auth}}}))
    return {"DOCKER_CONFIG": str(tmp_path / "docker")}


def test_bearer_token_from_docker_config_credentials(registry: Registry, tmp_path: Path,
                                                    token_registry: tuple[TokenRegistry, TokenServer]) -> None:
    """Anonymous request -> 401 Bearer challenge -> token for repository:NAME:pull with the config.json
    credentials -> the manifest; the digest is the one pushed."""
    server, tokens = token_registry
    digest = registry.push_image("team/secure", "3.1.0")
    client = RegistryClient(env=docker_config(tmp_path, server.url, PASSWORD))
    assert client.resolve(parse(f"{server.url}/team/secure:3.1.0")).digest == digest
    (asked,) = tokens.requests
    assert asked["query"] == {"scope": "repository:team/secure:pull", "service": SERVICE}
    assert asked["authorization"].startswith("Basic ")


def test_wrong_or_missing_credentials_are_clear_and_secret_free(
        registry: Registry, tmp_path: Path, token_registry: tuple[TokenRegistry, TokenServer]) -> None:
    """Bad credentials: the token endpoint refuses (a RegistryError naming the status, not the password);
    without credentials the anonymous token request is refused too (never a misleading 'not found')."""
    server, _ = token_registry
    registry.push_image("team/locked", "1.0.0")
    image = parse(f"{server.url}/team/locked:1.0.0")
    wrong = "wrong-" + PASSWORD
    with pytest.raises(RegistryError, match=r"token endpoint refused the request \(401\)") as refused:
        RegistryClient(env=docker_config(tmp_path, server.url, wrong)).resolve(image)
    assert wrong not in str(refused.value) and PASSWORD not in str(refused.value)
    with pytest.raises(RegistryError, match="token endpoint refused"):
        RegistryClient(env={"DOCKER_CONFIG": str(tmp_path / "nothing")}).resolve(image)
