"""The image's two jobs, run from the image (buildah run, chroot isolation: its rootfs, its python, handoff,
git and kustomize): the reconciler against the harness kube-apiserver and git server (apply, then revert a
change another field manager made), and `handoff propose` against the harness git server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from handoff.report.model import ObjectRef
from tests.harness.ports import free_port
from tests.reconciler.cluster import Cluster, kustomize_app, new_cluster

from .configrepo import FILES
from .image import BuiltImage, Container, container

pytestmark = [pytest.mark.slow, pytest.mark.tools, pytest.mark.timeout(3000)]

# Where the test's files appear inside the container (read-only bind mounts).
KUBECONFIG, CA, TOKEN = "/run/handoff/kubeconfig", "/run/handoff/ca.crt", "/run/handoff/token"


@pytest.fixture
def box(handoff_image: BuiltImage) -> Iterator[Container]:
    with container(handoff_image) as ctr:
        yield ctr


def wait_for(check: Callable[[], bool], what: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"{what}: not reached in {timeout:.0f}s"
        time.sleep(0.5)


def _container_kubeconfig(apiserver: Any, tmp_path: Path) -> Path:
    """The harness kubeconfig with its CA at the path the container sees."""
    path = tmp_path / "kubeconfig"
    path.write_text(Path(apiserver.kubeconfig).read_text().replace(str(apiserver.ca_file), CA))
    return path


def _passes(log: Path) -> int:
    count = 0
    for line in log.read_text(errors="replace").splitlines():
        try:
            count += json.loads(line).get("msg") == "pass finished"
        except (ValueError, AttributeError):
            continue
    return count


def _config_map_mode(c: Cluster) -> str | None:
    cm = c.get("v1", "ConfigMap", "web-config")
    return None if cm is None else str((cm.get("data") or {}).get("mode"))


def test_the_reconciler_from_the_image_applies_and_reverts_drift(
        box: Container, apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    c = new_cluster(apiserver, git_server, tmp_path, kustomize_app())
    port = free_port()
    argv = ["handoff", "reconcile", "--kubeconfig", KUBECONFIG, "--repo", c.url, "--path", "app",
            "--revision", "main", "--name", f"src-{c.target_ns}", "--target-namespace", c.target_ns,
            "--namespace", c.control_ns, "--interval", "1s", "--token-file", TOKEN,
            "--git-username", c.username, "--metrics-addr", f"127.0.0.1:{port}"]
    mounts = {_container_kubeconfig(apiserver, tmp_path): KUBECONFIG, Path(apiserver.ca_file): CA,
              c.token_file: TOKEN}
    log = tmp_path / "reconciler.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(box.argv(argv, mounts=mounts), stdout=sink, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        wait_for(lambda: proc.poll() is None and c.status().get("result") == "Succeeded",
                 f"first sync (log: {log.read_text(errors='replace')[-3000:]})")
        deploy = c.get("apps/v1", "Deployment", "web")
        assert deploy is not None
        assert deploy["spec"]["template"]["spec"]["containers"][0]["image"] == "registry.example/web:1.0.0"
        assert _config_map_mode(c) == "prod"
        # served by the process in the image, on the host's loopback
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=10) as ready:
            assert ready.status == 200

        c.client.patch(ObjectRef("v1", "ConfigMap", "web-config", c.target_ns), {"data": {"mode": "debug"}},
                       content_type="application/merge-patch+json", params={"fieldManager": "intruder"})
        passes_before = _passes(log)
        wait_for(lambda: _config_map_mode(c) == "prod" and _passes(log) > passes_before, "drift reverted")
        report = c.drift_report()
        assert report["reverted"]
        assert report["objects"][0]["fields"][0]["manager"] == "intruder"
        assert proc.poll() is None, log.read_text(errors="replace")[-3000:]
    finally:
        _stop(proc)
    assert "git is not installed" not in log.read_text(errors="replace")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(30)


def test_propose_from_the_image_pushes_the_rolling_branch(box: Container, git_server: Any, tmp_path: Path) -> None:
    url = git_server.create_repo("config", dict(FILES))
    token = tmp_path / "token"
    token.write_text(str(git_server.password))
    image = "registry.example.com/acme/web:2.0.0"
    run = box.run(["handoff", "propose", "--image", image, "--app", "web", "--env", "dev", "--config-repo", url,
                   "--forge", "local", "--token-file", TOKEN, "--git-username", str(git_server.username),
                   "--author", "ci <ci@example.com>", "--output", "json"],
                  mounts={token: TOKEN})
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    result = json.loads(run.stdout)
    assert result["operation"] == "created", result
    bare = git_server.bare_path("config")
    values = subprocess.run(["git", "--git-dir", str(bare), "show", "handoff/dev/web:values.yaml"],
                            capture_output=True, text=True, check=True).stdout
    assert "tag: 2.0.0" in values
    assert any("git-receive-pack" in line for line in git_server.requests)  # pushed over smart HTTP
