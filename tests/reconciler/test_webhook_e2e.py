"""A signed push webhook makes a real reconciler (real kube-apiserver + etcd and git server) apply the
new commit long before its hour-long interval would."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from handoff.reconciler.webhook import Receiver, secret_file, serve
from tests.harness.ports import free_port
from tests.harness.tools import require_tool

from .cluster import Cluster, kustomize_app, new_cluster
from .test_e2e import eventually, image_of
from .webhooks import encode, github_headers, github_push, post

pytestmark = [pytest.mark.tools, pytest.mark.slow]


def test_a_push_webhook_makes_the_running_reconciler_apply_the_new_commit(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    require_tool("kustomize")
    cluster = new_cluster(apiserver, git_server, tmp_path, kustomize_app())
    rec = cluster.reconciler(interval=3600.0)
    (tmp_path / "hook-secret").write_text("hook-secret-value")
    receiver = Receiver(rec, secret_file(tmp_path / "hook-secret"), rec.metrics)
    server = serve(receiver, "127.0.0.1:0")
    stop = threading.Event()
    loop = threading.Thread(target=rec.run, args=(stop,), daemon=True)
    loop.start()
    try:
        eventually(lambda: cluster.get("apps/v1", "Deployment", "web") is not None)
        assert image_of(cluster) == "registry.example/web:1.0.0"
        sha = cluster.repo.commit({"app/deployment.yaml": kustomize_app("registry.example/web:1.1.0")[
            "app/deployment.yaml"]}, "bump web")
        body = _push_body(cluster, sha)
        answer = post(int(server.server_address[1]), body, github_headers("hook-secret-value", body))
        assert (answer.status, answer.body["triggered"]) == (202, 1)
        eventually(lambda: image_of(cluster) == "registry.example/web:1.1.0")  # the interval is an hour
        # the pass records its revision after the last apply returns: the Deployment can be seen first
        eventually(lambda: rec.state[rec.settings.sources[0].name].applied_revision == sha)
    finally:
        stop.set()
        loop.join(timeout=60)
        server.shutdown()
        server.server_close()


def _push_body(cluster: Cluster, sha: str) -> bytes:
    """The push as the forge would describe it: the repository's URLs, the branch pushed, the commit."""
    url = urlsplit(cluster.url)
    owner, _, repo = url.path.strip("/").removesuffix(".git").rpartition("/")
    return encode(github_push(owner, repo, after=sha, host=url.netloc))


def test_handoff_reconcile_serves_the_webhook_and_counts_a_bad_signature(
        apiserver: Any, git_server: Any, tmp_path: Path) -> None:
    """The command's flags: the receiver runs beside the loop; a forged request changes nothing and shows
    up in /metrics; the signed one applies the commit though the interval is an hour."""
    require_tool("kustomize")
    cluster = new_cluster(apiserver, git_server, tmp_path, kustomize_app())
    (tmp_path / "hook-secret").write_text("process-secret\n")
    hook_port, metrics_port = free_port(), free_port()
    argv = [sys.executable, "-m", "handoff", "reconcile", "--kubeconfig", str(apiserver.kubeconfig),
            "--repo", cluster.url, "--path", "app", "--name", f"src-{cluster.target_ns}",
            "--target-namespace", cluster.target_ns, "--namespace", cluster.control_ns, "--interval", "1h",
            "--token-file", str(cluster.token_file), "--no-leader-elect", "--workdir", str(cluster.workdir),
            "--metrics-addr", f"127.0.0.1:{metrics_port}", "--webhook-addr", f"127.0.0.1:{hook_port}",
            "--webhook-secret-file", str(tmp_path / "hook-secret")]
    env = {**os.environ, "HANDOFF_GIT_USERNAME": cluster.username}
    log = tmp_path / "reconcile.log"
    proc = subprocess.Popen(argv, stderr=log.open("wb"), stdout=subprocess.DEVNULL, env=env)
    try:
        def first_pass_done() -> bool:  # a process that died (a port taken meanwhile) says why at once
            assert proc.poll() is None, log.read_text(errors="replace")[-3000:]
            return cluster.status().get("result") == "Succeeded"

        try:
            eventually(first_pass_done, timeout=180)
        except AssertionError as e:
            raise AssertionError(f"{e}; reconcile log: {log.read_text(errors='replace')[-3000:]}") from None
        sha = cluster.repo.commit({"app/deployment.yaml": kustomize_app("registry.example/web:2.0.0")[
            "app/deployment.yaml"]}, "bump web")
        body = _push_body(cluster, sha)
        forged = post(hook_port, body, {**github_headers("process-secret", body),
                                        "X-Hub-Signature-256": "sha256=" + "f" * 64})
        assert forged.status == 401
        with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5) as r:
            exposed = r.read().decode()
        assert 'handoff_webhook_refused_total{reason="bad-signature"} 1.0' in exposed
        assert image_of(cluster) == "registry.example/web:1.0.0"  # the forged push triggered nothing
        answer = post(hook_port, body, github_headers("process-secret", body))
        assert (answer.status, answer.body["triggered"]) == (202, 1)
        eventually(lambda: image_of(cluster) == "registry.example/web:2.0.0")
    finally:
        proc.terminate()
        proc.wait(30)
