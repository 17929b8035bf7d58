"""The OCI distribution client against the harness's real registry (CNCF distribution, plain HTTP on 127.0.0.1)."""

from __future__ import annotations

import pytest

from handoff.cli import main
from handoff.errors import RegistryError
from handoff.imageref import parse
from handoff.registry import RegistryClient
from tests.harness.git_server import GitServer
from tests.harness.registry import Registry
from tests.propose.helpers import show


@pytest.mark.parametrize("manifest_format", ["oci", "docker"])
def test_resolves_the_pushed_digest(registry: Registry, manifest_format: str) -> None:
    """A pushed tag resolves to exactly the digest the registry stored, for OCI and Docker v2 manifests."""
    name = f"team/web-{manifest_format}"
    pushed = registry.push_image(name, "1.2.0", manifest_format=manifest_format)  # type: ignore[arg-type]
    resolved = RegistryClient().resolve(parse(f"{registry.url}/{name}:1.2.0"))
    assert resolved.digest == pushed
    expected_type = {"oci": "application/vnd.oci.image.manifest.v1+json",
                     "docker": "application/vnd.docker.distribution.manifest.v2+json"}[manifest_format]
    assert resolved.media_type == expected_type


def test_a_digest_reference_is_checked_against_the_registry(registry: Registry) -> None:
    """tag@digest resolves when the registry holds that digest, and is refused when it does not."""
    pushed = registry.push_image("team/pinned", "2.0.0")
    assert RegistryClient().resolve(parse(f"{registry.url}/team/pinned:2.0.0@{pushed}")).digest == pushed
    other = "sha256:" + "0" * 64
    with pytest.raises(RegistryError, match="not found"):
        RegistryClient().resolve(parse(f"{registry.url}/team/pinned:2.0.0@{other}"))


def test_missing_tag_and_missing_repository_are_clear_errors(registry: Registry) -> None:
    """A tag or repository that does not exist is a one-line RegistryError naming the image."""
    registry.push_image("team/api", "1.0.0")
    with pytest.raises(RegistryError) as missing_tag:
        RegistryClient().resolve(parse(f"{registry.url}/team/api:9.9.9"))
    assert str(missing_tag.value) == (f"image {registry.url}/team/api:9.9.9 not found in the registry "
                                      "(tag '9.9.9' does not exist)")
    with pytest.raises(RegistryError, match="not found"):
        RegistryClient().resolve(parse(f"{registry.url}/team/nothing-here:1.0.0"))


def test_unreachable_registry_is_a_registry_error() -> None:
    """Nothing listening: a RegistryError, not a urllib exception."""
    with pytest.raises(RegistryError, match="cannot reach registry"):
        RegistryClient(timeout=5).resolve(parse("127.0.0.1:9/team/web:1.0.0"))


def test_propose_resolve_digest_pins_the_registry_digest(registry: Registry, git_server: GitServer,
                                                         monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    """handoff propose --resolve-digest asks the registry and writes tag@digest into the config repo;
    a tag the registry lacks fails before anything is pushed."""
    digest = registry.push_image("team/web", "1.3.0")
    image = f"{registry.url}/team/web"
    url = git_server.create_repo("pin", {"apps.yaml": f"image: {image}:1.0.0 # handoff:image web\n"})
    assert git_server.username and git_server.password
    monkeypatch.setenv("CFG_TOKEN", git_server.password)
    common = ["--app", "web", "--env", "dev", "--config-repo", url, "--token-env", "CFG_TOKEN",
              "--git-username", git_server.username, "--resolve-digest"]
    assert main(["propose", "--image", f"{image}:1.3.0", *common]) == 0
    assert show(git_server, "pin", "handoff/dev/web", "apps.yaml") == (
        f"image: {image}:1.3.0@{digest} # handoff:image web\n")
    assert main(["propose", "--image", f"{image}:1.4.0", *common]) == 1
    err = capsys.readouterr().err
    assert "tag '1.4.0' does not exist" in err
    assert show(git_server, "pin", "handoff/dev/web", "apps.yaml").startswith(f"image: {image}:1.3.0@")
