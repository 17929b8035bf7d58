"""Images pushed to the test registry resolve to their digest over the Registry HTTP API."""

import hashlib

import pytest

from tests.harness.http import request
from tests.harness.registry import DOCKER_MANIFEST, MANIFEST_ACCEPT, OCI_MANIFEST, Registry

pytestmark = pytest.mark.tools


@pytest.mark.parametrize(
    ("manifest_format", "media_type"), [("oci", OCI_MANIFEST), ("docker", DOCKER_MANIFEST)]
)
def test_pushed_image_resolves_to_its_manifest_digest(
    registry: Registry, manifest_format: str, media_type: str
) -> None:
    name = f"smoke/{manifest_format}"
    digest = registry.push_image(name, "1.0.0", manifest_format=manifest_format)  # type: ignore[arg-type]

    resp = request(f"http://{registry.url}/v2/{name}/manifests/1.0.0", headers={"Accept": MANIFEST_ACCEPT})

    assert resp.status == 200
    assert resp.headers["Content-Type"] == media_type
    assert resp.headers["Docker-Content-Digest"] == digest
    assert digest == "sha256:" + hashlib.sha256(resp.body).hexdigest()


def test_different_tags_get_different_digests(registry: Registry) -> None:
    assert registry.push_image("smoke/tags", "a") != registry.push_image("smoke/tags", "b")
