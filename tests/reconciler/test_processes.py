"""`handoff reconcile` as real processes: only the Lease holder applies; metrics and probes are served."""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from handoff.cli import main
from tests.harness.ports import free_port
from tests.harness.tools import require_tool

from .cluster import Cluster, kustomize_app, new_cluster

pytestmark = [pytest.mark.tools, pytest.mark.slow]


def start(c: Cluster, identity: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    argv = [sys.executable, "-m", "handoff", "reconcile", "--kubeconfig", str(c.extra["kubeconfig"]),
            "--repo", c.url, "--path", "app", "--revision", "main", "--name", f"src-{c.target_ns}",
            "--target-namespace", c.target_ns, "--namespace", c.control_ns, "--interval", "1s",
            "--token-file", str(c.token_file), "--identity", identity, "--lease-seconds", "4",
            "--metrics-addr", f"127.0.0.1:{port}", "--workdir", str(c.workdir / identity)]
    env = {**os.environ, "HANDOFF_GIT_USERNAME": c.username}
    return subprocess.Popen(argv, stderr=log.open("wb"), stdout=subprocess.DEVNULL, env=env)


def passes(log: Path) -> int:
    count = 0
    for line in log.read_text().splitlines():
        try:
            count += json.loads(line).get("msg") == "pass finished"
        except ValueError:
            continue
    return count


def holder(c: Cluster) -> str:
    lease = c.client.get("coordination.k8s.io/v1", "Lease", "handoff-reconciler", c.control_ns)
    return str(((lease or {}).get("spec") or {}).get("holderIdentity") or "")


def wait_for(check: Any, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.3)


def metrics(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        return str(r.read().decode())


def test_two_reconcilers_only_the_lease_holder_applies(apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    require_tool("kustomize")
    c = new_cluster(apiserver, git_server, tmp_path, kustomize_app())
    c.extra["kubeconfig"] = apiserver.kubeconfig
    ports = {"a": free_port(), "b": free_port()}
    logs = {name: tmp_path / f"{name}.log" for name in ports}
    procs = {name: start(c, name, ports[name], logs[name]) for name in ports}
    try:
        wait_for(lambda: holder(c) in ("a", "b") and c.status().get("result") == "Succeeded")
        leader = holder(c)
        standby = "b" if leader == "a" else "a"
        wait_for(lambda: passes(logs[leader]) >= 3)
        assert passes(logs[standby]) == 0
        assert "handoff_leader 1.0" in metrics(ports[leader])
        assert "handoff_leader 0.0" in metrics(ports[standby])
        assert c.get("apps/v1", "Deployment", "web") is not None
        procs[leader].send_signal(signal.SIGTERM)
        procs[leader].wait(30)
        c.repo.commit({"app/deployment.yaml": kustomize_app("registry.example/web:9.9.9")["app/deployment.yaml"]})
        wait_for(lambda: holder(c) == standby)

        def updated() -> bool:
            deploy = c.get("apps/v1", "Deployment", "web") or {}
            return bool(deploy and deploy["spec"]["template"]["spec"]["containers"][0]["image"].endswith("9.9.9"))

        wait_for(updated)
        # The apply lands before the pass logs "pass finished" (status is recorded in between).
        wait_for(lambda: passes(logs[standby]) >= 1)
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.terminate()
                p.wait(30)


def test_once_exits_zero_on_success_and_one_on_an_invalid_revision(apiserver: Any, git_server: Any,
                                                                   tmp_path: Path) -> None:
    require_tool("kustomize")
    c = new_cluster(apiserver, git_server, tmp_path, kustomize_app())
    argv = ["reconcile", "--once", "--kubeconfig", str(apiserver.kubeconfig), "--repo", c.url, "--path", "app",
            "--name", f"src-{c.target_ns}", "--target-namespace", c.target_ns, "--namespace", c.control_ns,
            "--token-file", str(c.token_file), "--git-username", c.username, "--workdir", str(tmp_path / "w")]
    assert main(argv) == 0
    assert c.get("apps/v1", "Deployment", "web") is not None
    c.repo.commit({"app/kustomization.yaml": "resources: [missing.yaml]\n"}, "broken kustomization")
    assert main(argv) == 1
    assert c.status()["result"] == "Failed"
    assert "keeping revision" in c.status()["message"]
