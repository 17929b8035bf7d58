"""`make tools` (tools/install.sh): a warm run only re-links, a missing Go tool is prefetched and built, a bad pin fails.

Each test runs a copy of tools/ in a temp "repository" with its own tools cache, so neither the checkout's .tools/bin
nor the shared ~/.cache/handoff-tools is touched.
"""

import os
import pwd
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.harness.paths import REPO_ROOT

GO_TOOLS = (
    "etcd",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kwok",
    "helm",
    "conftest",
    "yq",
    "kustomize",
    "kubeconform",
)


def _versions() -> dict[str, str]:
    pinned: dict[str, str] = {}
    for line in (REPO_ROOT / "tools" / "versions.env").read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            pinned[key] = value.split()[0]
    k8s = pinned["KUBERNETES_VERSION"]
    return {
        "etcd": pinned["ETCD_VERSION"],
        "kube-apiserver": k8s,
        "kube-controller-manager": k8s,
        "kube-scheduler": k8s,
        "kwok": pinned["KWOK_VERSION"],
        "helm": pinned["HELM_VERSION"],
        "conftest": pinned["CONFTEST_VERSION"],
        "yq": pinned["YQ_VERSION"],
        "kustomize": pinned["KUSTOMIZE_VERSION"],
        "kubeconform": pinned["KUBECONFORM_VERSION"],
    }


def _repo_copy(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    shutil.copytree(REPO_ROOT / "tools", repo / "tools")
    return repo


def _install(repo: Path, cache: Path, only: str, path: str, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": path, "HANDOFF_TOOLS_CACHE": str(cache), "HANDOFF_TOOLS_ONLY": only, **extra}
    return subprocess.run(
        ["bash", str(repo / "tools" / "install.sh")], env=env, capture_output=True, text=True, check=False
    )


def test_a_warm_run_links_every_cached_go_tool_and_runs_no_go(tmp_path: Path) -> None:
    repo, cache = _repo_copy(tmp_path), tmp_path / "cache"
    versions = _versions()
    for name in GO_TOOLS:
        slot = cache / f"{name}-{versions[name]}" / name
        slot.parent.mkdir(parents=True)
        slot.write_text("#!/bin/sh\n")
        slot.chmod(0o755)

    # No Go on PATH: a run that tried to prefetch or build anything would stop with "Go >= 1.26 is needed".
    done = _install(repo, cache, " ".join(GO_TOOLS), "/usr/bin:/bin")

    assert done.returncode == 0, done.stderr
    for name in GO_TOOLS:
        assert (repo / ".tools" / "bin" / name).readlink() == cache / f"{name}-{versions[name]}" / name
        assert f"{versions[name]} cached" in next(
            line for line in done.stdout.splitlines() if line.startswith(name)
        )
    assert not list((cache / "logs").glob("prefetch-*.log"))


def test_a_go_mod_that_does_not_pin_the_version_is_refused(tmp_path: Path) -> None:
    repo = _repo_copy(tmp_path)
    versions_env = repo / "tools" / "versions.env"
    pinned = f"KUBERNETES_VERSION={_versions()['kube-apiserver']}"
    versions_env.write_text(versions_env.read_text().replace(pinned, "KUBERNETES_VERSION=v1.35.99"))

    done = _install(repo, tmp_path / "cache", "kube-apiserver kube-scheduler", os.environ["PATH"])

    assert done.returncode == 1
    assert "tools/kube-apiserver/go.mod does not pin v1.35.99 (see tools/versions.env)" in done.stderr


@pytest.mark.tools
@pytest.mark.slow
def test_a_missing_go_tool_is_prefetched_built_cached_and_linked(tmp_path: Path) -> None:
    if shutil.which("go") is None:
        pytest.skip("Go is not installed")
    repo, cache = _repo_copy(tmp_path), tmp_path / "cache"
    # The sandbox gives the test a throw-away HOME: use the user's real Go caches, as `make tools` does.
    home = Path(pwd.getpwuid(os.getuid()).pw_dir)
    go_caches = {
        "GOCACHE": os.environ.get("GOCACHE", str(home / ".cache" / "go-build")),
        "GOMODCACHE": os.environ.get("GOMODCACHE", str(home / "go" / "pkg" / "mod")),
    }
    version = _versions()["kubeconform"]

    done = _install(repo, cache, "kubeconform", os.environ["PATH"], **go_caches)

    assert done.returncode == 0, done.stderr
    assert f"{version} built in" in done.stdout
    linked = repo / ".tools" / "bin" / "kubeconform"
    assert linked.readlink() == cache / f"kubeconform-{version}" / "kubeconform"
    shown = subprocess.run([str(linked), "-v"], capture_output=True, text=True, check=True)
    assert version in shown.stdout + shown.stderr
    assert (cache / "logs" / "prefetch-kubeconform.log").exists()
    assert not list(cache.glob(".build-*"))
