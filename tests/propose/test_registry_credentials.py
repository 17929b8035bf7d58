"""Registry credentials the way CI jobs have them: Docker's config.json with credHelpers / credsStore
(the ECR, GCR/Artifact Registry and ACR helpers) or inline auths, against the real token-auth registry,
with a real credential helper program of our own on PATH."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from handoff.errors import RegistryError, UsageError
from handoff.imageref import parse
from handoff.registry import EngineResolver, RegistryClient, digest_resolver, docker_credentials
from handoff.registry.credentials import DOCKER_HUB_SERVER, Credentials
from tests.harness.registry import Registry
from tests.propose.credential_helper import CredentialHelper, write_docker_config
from tests.propose.token_registry import SERVICE, TokenRegistry, TokenServer, token_auth_registry

USER, SECRET = "AWS", "helper-Secret-0123456789abcdef"
REFRESH_TOKEN = "identity-Refresh-0123456789abcdef"


@pytest.fixture
def token_registry(registry: Registry, tmp_path: Path) -> Iterator[tuple[TokenRegistry, TokenServer]]:
    with token_auth_registry(registry, tmp_path, USER, SECRET, REFRESH_TOKEN) as served:
        yield served


def basic(user: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()


def test_cred_helper_for_the_registry_authenticates_the_token_request(
        registry: Registry, tmp_path: Path, token_registry: tuple[TokenRegistry, TokenServer]) -> None:
    """credHelpers[host] names the helper: `docker-credential-NAME get` with the host on stdin (never the
    secret in argv), and its Username/Secret go to the token endpoint as basic auth."""
    server, tokens = token_registry
    digest = registry.push_image("team/ecr", "1.0.0")
    helper = CredentialHelper(tmp_path / "bin", "ecr-login")
    helper.answer({server.url: (USER, SECRET)})
    env = write_docker_config(tmp_path / "docker", {"credHelpers": {server.url: "ecr-login"}})
    env["PATH"] = str(helper.bin_dir)
    assert RegistryClient(env=env).resolve(parse(f"{server.url}/team/ecr:1.0.0")).digest == digest
    assert helper.calls == [{"argv": ["get"], "stdin": server.url}]
    assert tokens.requests[-1]["authorization"] == basic(USER, SECRET)


def test_creds_store_is_the_default_helper_and_cred_helpers_win(
        registry: Registry, tmp_path: Path, token_registry: tuple[TokenRegistry, TokenServer]) -> None:
    """credsStore answers for every registry not in credHelpers, over inline auths (as the Docker CLI
    does); a credHelpers entry for the host wins over credsStore."""
    server, tokens = token_registry
    digest = registry.push_image("team/store", "1.0.0")
    image = parse(f"{server.url}/team/store:1.0.0")
    store = CredentialHelper(tmp_path / "bin", "desktop")
    store.answer({server.url: (USER, SECRET)})
    stale = base64.b64encode(f"{USER}:stale-password-000".encode()).decode()
    env = write_docker_config(tmp_path / "docker", {"credsStore": "desktop",
                                                    "auths": {server.url: {"auth": stale}}})
    env["PATH"] = str(store.bin_dir)
    assert RegistryClient(env=env).resolve(image).digest == digest
    assert tokens.requests[-1]["authorization"] == basic(USER, SECRET)

    per_host = CredentialHelper(tmp_path / "bin", "gcloud")
    per_host.answer({server.url: (USER, SECRET)})
    store.fail_with("the store must not be asked")
    write_docker_config(tmp_path / "docker", {"credsStore": "desktop", "credHelpers": {server.url: "gcloud"}})
    assert RegistryClient(env=env).resolve(image).digest == digest
    assert len(per_host.calls) == 1 and len(store.calls) == 1


def test_credentials_not_found_means_anonymous(
        registry: Registry, tmp_path: Path, token_registry: tuple[TokenRegistry, TokenServer]) -> None:
    """The helper's "credentials not found" is no error: the token request goes out anonymously, and the
    registry's refusal is what the user sees."""
    server, tokens = token_registry
    registry.push_image("team/anon", "1.0.0")
    helper = CredentialHelper(tmp_path / "bin", "acr-env")
    env = write_docker_config(tmp_path / "docker", {"credHelpers": {server.url: "acr-env"}})
    env["PATH"] = str(helper.bin_dir)
    assert docker_credentials(server.url, env) is None
    with pytest.raises(RegistryError, match=r"token endpoint refused the request \(401\)"):
        RegistryClient(env=env).resolve(parse(f"{server.url}/team/anon:1.0.0"))
    assert tokens.requests[-1]["authorization"] == ""
    assert [c["stdin"] for c in helper.calls] == [server.url, server.url]


def test_a_failing_or_missing_helper_is_a_clear_secret_free_error(tmp_path: Path) -> None:
    """A helper that fails for another reason, or is not on PATH, is a RegistryError naming the helper;
    whatever it printed is redacted of known secrets."""
    helper = CredentialHelper(tmp_path / "bin", "broken")
    Credentials("someone", SECRET)  # a secret already known to this process, as after an earlier lookup
    helper.fail_with(f"error getting credentials: token {SECRET} expired")
    env = write_docker_config(tmp_path / "docker", {"credHelpers": {"registry.example": "broken"}})
    env["PATH"] = str(helper.bin_dir)
    with pytest.raises(RegistryError) as failed:
        docker_credentials("registry.example", env)
    message = str(failed.value)
    assert "docker-credential-broken failed for registry.example (exit 3)" in message
    assert SECRET not in message and "expired" in message
    env["PATH"] = str(tmp_path / "empty")
    with pytest.raises(RegistryError, match=r"docker-credential-broken \(from config.json\) is not on PATH"):
        docker_credentials("registry.example", env)


def test_helper_identity_token_and_docker_hub_server_url(tmp_path: Path) -> None:
    """Username "<token>" means the secret is an identity (refresh) token; Docker Hub is asked under the
    URL `docker login` stores it as."""
    helper = CredentialHelper(tmp_path / "bin", "pass")
    helper.answer({DOCKER_HUB_SERVER: ("<token>", SECRET), "ghcr.io": ("bot", SECRET)})
    env = write_docker_config(tmp_path / "docker", {"credsStore": "pass"})
    env["PATH"] = str(helper.bin_dir)
    hub = docker_credentials("registry-1.docker.io", env)
    assert hub is not None and hub.identity_token == SECRET and not hub.username and not hub.password
    assert docker_credentials("ghcr.io", env) == Credentials("bot", SECRET)
    assert SECRET not in repr(docker_credentials("ghcr.io", env))
    assert [c["stdin"] for c in helper.calls][:2] == [DOCKER_HUB_SERVER, "ghcr.io"]


def test_inline_auths_decode_and_a_bad_entry_names_file_and_key(tmp_path: Path) -> None:
    """auths[host].auth is base64 user:password; anything else is a one-line error naming the file and key."""
    good = base64.b64encode(f"bot:{SECRET}".encode()).decode()
    env = write_docker_config(tmp_path / "docker", {"auths": {"https://quay.io": {"auth": good},
                                                               "registry.example": {"auth": "not base64!"}}})
    assert docker_credentials("quay.io", env) == Credentials("bot", SECRET)
    with pytest.raises(RegistryError) as bad:
        docker_credentials("registry.example", env)
    assert str(bad.value).startswith(f"{tmp_path / 'docker' / 'config.json'}: at auths.registry.example.auth: ")
    (tmp_path / "docker" / "config.json").write_text(json.dumps(["not", "an", "object"]))
    with pytest.raises(RegistryError, match=r"config\.json is not a JSON object"):
        docker_credentials("quay.io", env)


def test_resolver_choice_comes_from_handoff_resolve_via() -> None:
    """HANDOFF_RESOLVE_VIA picks the direct registry client (default) or the Docker engine."""
    assert isinstance(digest_resolver({}), RegistryClient)
    assert isinstance(digest_resolver({"HANDOFF_RESOLVE_VIA": "registry"}), RegistryClient)
    assert isinstance(digest_resolver({"HANDOFF_RESOLVE_VIA": "docker"}), EngineResolver)
    with pytest.raises(UsageError, match="HANDOFF_RESOLVE_VIA='podman': expected 'registry' or 'docker'"):
        digest_resolver({"HANDOFF_RESOLVE_VIA": "podman"})


def test_an_identity_token_is_exchanged_with_the_oauth2_refresh_grant(
        registry: Registry, tmp_path: Path, token_registry: tuple[TokenRegistry, TokenServer]) -> None:
    """A helper's "<token>" answer (ACR, or `docker login` to an OAuth2 registry) is a refresh token: it
    goes in the POST body of grant_type=refresh_token, never in a URL or an Authorization header."""
    server, tokens = token_registry
    digest = registry.push_image("team/acr", "1.0.0")
    helper = CredentialHelper(tmp_path / "bin", "acr-env")
    helper.answer({server.url: ("<token>", REFRESH_TOKEN)})
    env = write_docker_config(tmp_path / "docker", {"credHelpers": {server.url: "acr-env"}})
    env["PATH"] = str(helper.bin_dir)
    assert RegistryClient(env=env).resolve(parse(f"{server.url}/team/acr:1.0.0")).digest == digest
    (asked,) = tokens.requests
    assert asked["method"] == "POST" and asked["authorization"] == ""
    assert asked["form"] == {"grant_type": "refresh_token", "refresh_token": REFRESH_TOKEN, "client_id": "handoff",
                             "service": SERVICE, "scope": "repository:team/acr:pull"}


def test_the_engine_path_without_the_docker_extra_says_how_to_get_it(tmp_path: Path) -> None:
    """Without the docker SDK (an interpreter where `import docker` fails) the engine path is a one-line
    ToolMissingError naming the extra, not an ImportError traceback."""
    probe = ("import sys; sys.modules['docker'] = None\n"
             "from handoff.errors import ToolMissingError\n"
             "from handoff.imageref import parse\n"
             "from handoff.registry import EngineResolver\n"
             "try:\n    EngineResolver(env={}).resolve(parse('127.0.0.1:9/team/web:1.0.0'))\n"
             "except ToolMissingError as e:\n    print(e)\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=tmp_path)
    assert done.stdout.strip() == ("resolving through the Docker engine needs the docker SDK: "
                                   "pip install 'handoff-gitops[docker]'")


def test_an_open_registry_never_runs_the_helper(registry: Registry, tmp_path: Path) -> None:
    """Credentials are looked up only on a 401: a public image resolves even when the helper is broken."""
    digest = registry.push_image("team/public", "1.0.0")
    helper = CredentialHelper(tmp_path / "bin", "broken")
    helper.fail_with("this helper must not be asked")
    env = write_docker_config(tmp_path / "docker", {"credsStore": "broken"})
    env["PATH"] = str(helper.bin_dir)
    assert RegistryClient(env=env).resolve(parse(f"{registry.url}/team/public:1.0.0")).digest == digest
    assert helper.calls == []


def test_a_hanging_helper_is_killed_with_what_it_started(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The helper runs through the one child runner (``toolrun``): past the timeout its whole process
    group goes, so a grandchild holding the output pipe cannot keep the run waiting."""
    monkeypatch.setattr("handoff.registry.credentials.HELPER_TIMEOUT_SECONDS", 1.0)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    pid_file = tmp_path / "grandchild.pid"
    helper = bin_dir / "docker-credential-stuck"
    helper.write_text(f"#!/bin/sh\nsleep 300 &\necho $! > {pid_file}\nwait\n")
    helper.chmod(0o755)
    env = write_docker_config(tmp_path / "docker", {"credsStore": "stuck"})
    env["PATH"] = f"{bin_dir}:/usr/bin:/bin"
    with pytest.raises(RegistryError, match="docker-credential-stuck timed out"):
        docker_credentials("registry.example", env)
    grandchild = int(pid_file.read_text())
    for _ in range(200):  # the kill is sent; wait for the kernel to reap it (not a timing assertion)
        if not _alive(grandchild):
            break
        time.sleep(0.05)
    assert not _alive(grandchild)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/stat")
    return status.exists() and status.read_text().split(")")[-1].split()[0] != "Z"
