"""A signed push webhook makes a real reconciler (real kube-apiserver + etcd and git server) apply the
new commit long before its hour-long interval would."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from handoff.reconciler.webhook import Receiver, secret_file, serve
from tests.harness.tools import require_tool

from .cluster import kustomize_app, new_cluster
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
        # the payload names the repository as the forge would: its clone URL, the branch pushed
        url = urlsplit(cluster.url)
        owner, _, repo = url.path.strip("/").removesuffix(".git").rpartition("/")
        body = encode(github_push(owner, repo, after=sha, host=url.netloc))
        answer = post(int(server.server_address[1]), body, github_headers("hook-secret-value", body))
        assert (answer.status, answer.body["triggered"]) == (202, 1)
        eventually(lambda: image_of(cluster) == "registry.example/web:1.1.0")  # the interval is an hour
        assert rec.state[rec.settings.sources[0].name].applied_revision == sha
    finally:
        stop.set()
        loop.join(timeout=60)
        server.shutdown()
        server.server_close()
