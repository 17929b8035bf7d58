"""Digest resolution through a real Docker engine (the `docker` SDK), against the harness's registries:
the engine asks the registry, with the credentials handoff found in config.json and its helpers."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest

from handoff.cli import main
from handoff.errors import RegistryError
from handoff.imageref import parse
from handoff.registry import EngineResolver
from tests.harness.git_server import GitServer
from tests.harness.registry import Registry
from tests.propose.credential_helper import CredentialHelper, write_docker_config
from tests.propose.docker_engine import DockerEngine, require_engine
from tests.propose.helpers import show
from tests.propose.token_registry import token_auth_registry

USER, SECRET = "engine-bot", "engine-Secret-0123456789abcdef"
REFRESH_TOKEN = "engine-Refresh-0123456789abcdef"


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DockerEngine]:
    running = require_engine(tmp_path_factory.mktemp("engine"))
    running.start()
    try:
        yield running
    finally:
        running.stop()


def test_engine_resolves_the_pushed_digest(engine: DockerEngine, registry: Registry, tmp_path: Path) -> None:
    """tag -> the digest the registry stored, and the media type of its manifest, as the engine sees them."""
    pushed = registry.push_image("team/engine", "1.0.0")
    env = {"DOCKER_HOST": engine.host, **write_docker_config(tmp_path / "docker", {})}
    resolved = EngineResolver(env=env).resolve(parse(f"{registry.url}/team/engine:1.0.0"))
    assert resolved.digest == pushed
    assert resolved.media_type == "application/vnd.oci.image.manifest.v1+json"
    assert EngineResolver(env=env).resolve(parse(f"{registry.url}/team/engine:1.0.0@{pushed}")).digest == pushed


def test_engine_uses_the_credential_helper_for_a_token_registry(
        engine: DockerEngine, registry: Registry, tmp_path: Path) -> None:
    """The helper's credentials reach the engine (X-Registry-Auth), which does the token flow itself:
    basic auth for a username and secret, the OAuth2 refresh grant for an identity token."""
    digest = registry.push_image("team/engine-secure", "2.0.0")
    with token_auth_registry(registry, tmp_path, USER, SECRET, REFRESH_TOKEN) as (server, tokens):
        helper = CredentialHelper(tmp_path / "bin", "ecr-login")
        helper.answer({server.url: (USER, SECRET)})
        env = {"DOCKER_HOST": engine.host, "PATH": str(helper.bin_dir),
               **write_docker_config(tmp_path / "docker", {"credHelpers": {server.url: "ecr-login"}})}
        image = parse(f"{server.url}/team/engine-secure:2.0.0")
        assert EngineResolver(env=env).resolve(image).digest == digest
        expected = "Basic " + base64.b64encode(f"{USER}:{SECRET}".encode()).decode()
        assert expected in [r["authorization"] for r in tokens.requests]
        helper.answer({server.url: ("<token>", REFRESH_TOKEN)})
        assert EngineResolver(env=env).resolve(image).digest == digest
        assert tokens.requests[-1]["form"]["refresh_token"] == REFRESH_TOKEN
        helper.answer({})  # now "credentials not found": anonymous, and the registry refuses
        with pytest.raises(RegistryError) as refused:
            EngineResolver(env=env).resolve(image)
        assert SECRET not in str(refused.value)


def test_engine_missing_tag_and_unreachable_engine_are_registry_errors(
        engine: DockerEngine, registry: Registry, tmp_path: Path) -> None:
    """A tag the registry lacks is "not found" with the engine's reason; no engine is "cannot reach"."""
    registry.push_image("team/engine-api", "1.0.0")
    env = {"DOCKER_HOST": engine.host, **write_docker_config(tmp_path / "docker", {})}
    with pytest.raises(RegistryError, match=r"team/engine-api:9\.9\.9 not found"):
        EngineResolver(env=env).resolve(parse(f"{registry.url}/team/engine-api:9.9.9"))
    gone = {**env, "DOCKER_HOST": f"unix://{tmp_path}/no-engine.sock"}
    with pytest.raises(RegistryError, match="cannot reach the Docker engine"):
        EngineResolver(env=gone).resolve(parse(f"{registry.url}/team/engine-api:1.0.0"))


def test_propose_resolves_through_the_engine_when_told(
        engine: DockerEngine, registry: Registry, git_server: GitServer, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """HANDOFF_RESOLVE_VIA=docker: `propose --resolve-digest` pins the digest the engine resolved."""
    digest = registry.push_image("team/engine-web", "1.3.0")
    image = f"{registry.url}/team/engine-web"
    url = git_server.create_repo("engine-pin", {"apps.yaml": f"image: {image}:1.0.0 # handoff:image web\n"})
    assert git_server.username and git_server.password
    monkeypatch.setenv("CFG_TOKEN", git_server.password)
    monkeypatch.setenv("HANDOFF_RESOLVE_VIA", "docker")
    monkeypatch.setenv("DOCKER_HOST", engine.host)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    assert main(["propose", "--image", f"{image}:1.3.0", "--app", "web", "--env", "dev", "--config-repo", url,
                 "--token-env", "CFG_TOKEN", "--git-username", git_server.username, "--resolve-digest"]) == 0
    assert show(git_server, "engine-pin", "handoff/dev/web", "apps.yaml") == (
        f"image: {image}:1.3.0@{digest} # handoff:image web\n")
