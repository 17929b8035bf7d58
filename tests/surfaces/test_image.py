"""The Dockerfile, built for real without a Docker engine (tools/build-image.sh: buildah, vfs, chroot),
smoke-tested by the script (`handoff --version`, `handoff reconcile --help`, validate, git, ssh) and
pushed to the harness registry."""

from __future__ import annotations

import json
import subprocess
import urllib.request
from typing import Any

import pytest

from .image import BuiltImage


@pytest.mark.slow
@pytest.mark.tools
@pytest.mark.timeout(3000)
def test_image_builds_runs_and_pushes(handoff_image: BuiltImage, registry: Any) -> None:
    log = handoff_image.build_log
    assert "handoff, version 0.1.0" in log or "handoff 0.1.0" in log
    assert "build-image: handoff reconcile --help ok" in log
    assert "build-image: runs as uid 10001" in log
    assert "build-image: validate ok" in log
    assert "build-image: git, ssh and CA certificates ok" in log
    version = handoff_image.tag.rsplit(":", 1)[1]
    subprocess.run([*handoff_image.buildah, "push", "--tls-verify=false", "--quiet", handoff_image.tag,
                    f"docker://{registry.url}/handoff:{version}"], check=True, capture_output=True, timeout=600)
    with urllib.request.urlopen(f"http://{registry.url}/v2/handoff/tags/list", timeout=30) as response:
        tags = json.load(response)["tags"]
    assert "0.1.0" in tags
