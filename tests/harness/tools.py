"""Find the real tools installed by ``make tools``; skip locally, fail in CI when one is missing."""

import os
import shutil
from pathlib import Path

import pytest

from tests.harness.paths import TOOLS_BIN

TOOL_NAMES = (
    "kubeconform",
    "helm",
    "kustomize",
    "yq",
    "conftest",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kwok",
    "etcd",
    "docker-registry",
    "skopeo",
    "umoci",
    "git",
    "dockerd",
)

REQUIRE_TOOLS_ENV = "HANDOFF_REQUIRE_TOOLS"


def find_tool(name: str) -> Path | None:
    """The tool's path: ``.tools/bin`` first, then PATH; None when it is nowhere."""
    linked = TOOLS_BIN / name
    if linked.exists() and os.access(linked, os.X_OK):
        return linked
    found = shutil.which(name)
    return Path(found) if found else None


def tools_required() -> bool:
    return os.environ.get(REQUIRE_TOOLS_ENV) == "1"


def require_tool(name: str) -> Path:
    """Path of a real tool; a missing one skips the test locally and fails it when HANDOFF_REQUIRE_TOOLS=1 (CI)."""
    path = find_tool(name)
    if path is not None:
        return path
    message = f"{name} is not installed: run `make tools` (it installs it into .tools/bin)"
    if tools_required():
        pytest.fail(f"{message}; {REQUIRE_TOOLS_ENV}=1 makes a missing tool an error", pytrace=False)
    pytest.skip(message)


def tool_paths() -> dict[str, Path]:
    """Every known tool that is installed, by name (benchmarks use this outside pytest)."""
    found = {name: find_tool(name) for name in TOOL_NAMES}
    return {name: path for name, path in found.items() if path is not None}
