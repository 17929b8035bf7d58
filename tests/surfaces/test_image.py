"""The Dockerfile, built for real without a Docker engine (tools/build-image.sh: buildah, vfs, chroot),
run (`handoff --version`, `handoff reconcile --help`, validate) and pushed to the harness registry."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.harness.tools import tools_required

from .paths import REPO


def _require(name: str) -> None:
    if shutil.which(name) is None:
        message = f"{name} not installed (apt-get install buildah debootstrap)"
        if tools_required():
            pytest.fail(message)
        pytest.skip(message)


@pytest.mark.slow
@pytest.mark.tools
@pytest.mark.timeout(3000)
def test_image_builds_runs_and_pushes(registry: Any) -> None:
    for name in ("buildah", "debootstrap"):
        _require(name)
    # The suite sandboxes HOME; keep the Debian rootfs and buildah storage in the real user cache, as
    # the tools cache is, so only the first run pays for debootstrap.
    cache = Path(pwd.getpwuid(os.getuid()).pw_dir) / ".cache" / "handoff-image"
    env = {**os.environ, "HANDOFF_IMAGE_PUSH": registry.url, "HANDOFF_IMAGE_CACHE": str(cache)}
    proc = subprocess.run(["bash", str(REPO / "tools" / "build-image.sh")], cwd=REPO, env=env,
                          capture_output=True, text=True, check=False, timeout=3000)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-6000:]
    assert "handoff, version 0.1.0" in log or "handoff 0.1.0" in log
    assert "build-image: handoff reconcile --help ok" in log
    assert "build-image: runs as uid 10001" in log
    assert "build-image: validate ok" in log
    with urllib.request.urlopen(f"http://{registry.url}/v2/handoff/tags/list", timeout=30) as response:
        tags = json.load(response)["tags"]
    assert "0.1.0" in tags
