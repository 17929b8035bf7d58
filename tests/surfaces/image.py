"""The container image, built once per test session with tools/build-image.sh (buildah: vfs storage, chroot
isolation, no Docker engine), and processes run from it.

A process runs from the image with `buildah run --isolation chroot` in a working container: the image's
own rootfs, python, handoff, git, ssh, kustomize, helm and kubeconform, as the image's user (10001), with
only the files a test mounts in. Chroot isolation creates no network namespace, so the process reaches
the harness servers on 127.0.0.1 as a pod reaches its cluster's services."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.harness.tools import tools_required

from .paths import REPO

# The suite sandboxes HOME; the Debian rootfs and buildah's storage live in the real user's cache, as the
# tools cache does, so only the first build pays for debootstrap and later ones reuse the cached layers;
# HANDOFF_IMAGE_CACHE (as for tools/build-image.sh) picks another one.
CACHE = Path(os.environ.get("HANDOFF_IMAGE_CACHE")
             or Path(pwd.getpwuid(os.getuid()).pw_dir) / ".cache" / "handoff-image")


@dataclass(frozen=True)
class BuiltImage:
    tag: str
    build_log: str

    @property
    def buildah(self) -> list[str]:
        return ["buildah", "--root", str(CACHE / "storage"), "--runroot", str(CACHE / "run"),
                "--storage-driver", "vfs"]

    def size_bytes(self) -> int:
        out = subprocess.run([*self.buildah, "inspect", "--type", "image", "--format", "{{.Size}}", self.tag],
                             capture_output=True, text=True, check=True).stdout.strip()
        return int(out) if out.isdigit() else 0


def require_image_tools() -> None:
    for name in ("buildah", "debootstrap"):
        if shutil.which(name) is None:
            message = f"{name} not installed (apt-get install buildah debootstrap)"
            if tools_required():
                pytest.fail(message)
            pytest.skip(message)


def build_image() -> BuiltImage:
    env = {**os.environ, "HANDOFF_IMAGE_CACHE": str(CACHE)}
    env.pop("HANDOFF_IMAGE_PUSH", None)
    proc = subprocess.run(["bash", str(REPO / "tools" / "build-image.sh")], cwd=REPO, env=env,
                          capture_output=True, text=True, check=False, timeout=3000)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-6000:]
    version = next(line.split('"')[1] for line in (REPO / "pyproject.toml").read_text().splitlines()
                   if line.startswith("version = "))
    return BuiltImage(tag=f"localhost/handoff:{version}", build_log=log)


@dataclass(frozen=True)
class Container:
    """A working container of the image; `argv` runs a command in it."""

    image: BuiltImage
    name: str

    def argv(self, command: Sequence[str], *, mounts: Mapping[Path, str] = {},
             env: Mapping[str, str] = {}) -> list[str]:
        volumes = [arg for src, dst in mounts.items() for arg in ("-v", f"{src}:{dst}:ro")]
        envs = [arg for key, value in env.items() for arg in ("--env", f"{key}={value}")]
        return [*self.image.buildah, "run", "--isolation", "chroot", *volumes, *envs, self.name, "--", *command]

    def run(self, command: Sequence[str], *, mounts: Mapping[Path, str] = {}, env: Mapping[str, str] = {},
            timeout: int = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.argv(command, mounts=mounts, env=env), capture_output=True, text=True,
                              check=False, timeout=timeout)


@contextmanager
def container(image: BuiltImage) -> Iterator[Container]:
    name = subprocess.run([*image.buildah, "from", "--quiet", image.tag], capture_output=True, text=True,
                          check=True).stdout.strip()
    try:
        yield Container(image, name)
    finally:
        subprocess.run([*image.buildah, "rm", name], capture_output=True, check=False)
