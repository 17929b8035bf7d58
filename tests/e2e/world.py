"""The seed's GitOps loop on real components, shared by the loop test and bench/bench_loop.py: a config repo
on the harness git server, images in the harness registry, and a reconciler (the library, from a config
file, in a thread) applying ``envs/dev`` to the workload cluster and posting commit statuses to the local
forge (the notes ref ``refs/notes/handoff-status``)."""

from __future__ import annotations

import json
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from handoff.cli import main
from handoff.commitstatus import NOTES_REF, CommitStatus, LocalStatuses
from handoff.git.command import GitAuth
from handoff.git.notes import GitNotes
from handoff.kube.client import KubeClient, connect
from handoff.reconciler.config import load_settings
from handoff.reconciler.loop import Reconciler
from tests.harness.cluster import WorkloadCluster
from tests.harness.git_server import GitServer
from tests.harness.registry import Registry
from tests.reconciler.gitrepo import GIT_ENV, git

T = TypeVar("T")
TIMEOUT = 300.0  # generous: 2 shared cores; nothing asserts how long anything took


def deployment(name: str, image: str) -> str:
    """One app: requests and limits set (the reconciler's policy floor runs the built-in pack)."""
    return f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  replicas: 2
  progressDeadlineSeconds: 15
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      containers:
        - name: {name}
          image: {image} # handoff:image {name}
          resources:
            requests: {{cpu: 0.1, memory: 32Mi}}
            limits: {{cpu: 0.5, memory: 64Mi}}
"""


def handoff_config(images: dict[str, str]) -> str:
    apps = "".join(f"  {app}:\n    image: {image}\n    targets:\n      - type: marker\n"
                   f"        path: envs/{{env}}/{app}.yaml\n" for app, image in images.items())
    return ("environments:\n  dev:\n    render: {type: plain, path: envs/dev}\n"
            "  prod:\n    render: {type: plain, path: envs/prod}\n"
            f"apps:\n{apps}")


def eventually(what: str, probe: Callable[[], T | None], timeout: float = TIMEOUT) -> T:
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:.0f}s")
        time.sleep(0.2)


@dataclass
class Loop:
    cluster: WorkloadCluster
    git_server: GitServer
    registry: Registry
    tmp_path: Path
    apps: tuple[str, ...] = ("web",)

    def __post_init__(self) -> None:
        uid = uuid.uuid4().hex[:6]
        self.uid = uid
        self.name = f"loop-{uid}"
        self.control_ns, self.target_ns = f"hs-{uid}", f"loop-{uid}"
        self.images = {app: f"{self.registry.url}/team/{app}-{uid}" for app in self.apps}
        files: dict[str, str | bytes] = {".handoff.yaml": handoff_config(self.images)}
        for env in ("dev", "prod"):
            files.update({f"envs/{env}/{app}.yaml": deployment(app, f"{image}:1.0.0")
                          for app, image in self.images.items()})
        self.url = self.git_server.create_repo(self.name, files)
        self.token_file = self.tmp_path / "git-token"
        self.token_file.write_text(str(self.git_server.password))
        self.auth = GitAuth(str(self.git_server.username), str(self.git_server.password))
        self.client: KubeClient = connect(self.cluster.kubeconfig)
        for ns in (self.control_ns, self.target_ns):
            self.client.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
        self.config_file = self.tmp_path / "reconciler.yaml"
        # the config-file form of a source (JSON is YAML), as an operator mounts it
        self.config_file.write_text(json.dumps({
            "namespace": self.control_ns, "leaderElection": False, "metricsAddr": "off",
            "sources": [{"name": self.name, "url": self.url, "branch": "main", "path": "envs/dev",
                         "renderer": "plain", "namespace": self.target_ns, "interval": "1s", "env": "dev",
                         "credentials": {"tokenFile": str(self.token_file),
                                         "username": str(self.git_server.username)}}],
            "status": {"kind": "local", "tokenFile": str(self.token_file),
                       "username": str(self.git_server.username)},
        }))
        self.reconciler = Reconciler(load_settings(self.config_file), self.client, self.tmp_path / "cache")

    # ---- the reconciler ------------------------------------------------------------------------
    @contextmanager
    def running(self) -> Iterator[Reconciler]:
        stop = threading.Event()
        thread = threading.Thread(target=self.reconciler.run, args=(stop,), kwargs={"tick": 0.2},
                                  name=f"reconciler-{self.name}", daemon=True)
        thread.start()
        try:
            yield self.reconciler
        finally:
            stop.set()
            thread.join(timeout=60)

    # ---- CI's side -----------------------------------------------------------------------------
    def cli(self, *argv: str) -> int:
        return main([*argv, "--config-repo", self.url, "--token-env", "LOOP_GIT_TOKEN",
                     "--git-username", str(self.git_server.username)])

    def push_image(self, app: str, tag: str) -> str:
        """Push APP:TAG to the registry; the reference with the digest the registry stored."""
        digest = self.registry.push_image(self.images[app].split("/", 1)[1], tag)
        return f"{self.images[app]}:{tag}@{digest}"

    def propose(self, app: str, tag: str) -> int:
        return self.cli("propose", "--image", f"{self.images[app]}:{tag}", "--app", app, "--env", "dev",
                        "--resolve-digest")

    def merge(self, *branches: str) -> str:
        """Merge the proposals into main with plain git (a reviewer's merge button); the merge commit."""
        work = self.tmp_path / f"merge-{uuid.uuid4().hex[:6]}"
        auth_url = self.url.replace("http://", f"http://{self.git_server.username}:{self.git_server.password}@")
        subprocess.run(["git", "clone", "-q", auth_url, str(work)], env=GIT_ENV, check=True, capture_output=True)
        for branch in branches:
            git(work, "fetch", "-q", "origin", branch)
            git(work, "merge", "-q", "--no-ff", "-m", f"Merge {branch}", "FETCH_HEAD")
        git(work, "push", "-q", "origin", "HEAD:main")
        return git(work, "rev-parse", "HEAD")

    def show(self, ref: str, path: str) -> str:
        return git(self.git_server.bare_path(self.name), "show", f"{ref}:{path}")

    def branches(self) -> list[str]:
        return git(self.git_server.bare_path(self.name), "for-each-ref", "--format=%(refname:short)",
                   "refs/heads").split()

    # ---- what the loop produced ----------------------------------------------------------------
    def statuses(self, commit: str) -> dict[str, CommitStatus]:
        notes = GitNotes(self.url, self.tmp_path / f"notes-{uuid.uuid4().hex[:6]}", NOTES_REF, auth=self.auth)
        return dict(LocalStatuses(notes).read(commit))

    def live(self, app: str) -> dict[str, Any]:
        found = self.client.get("apps/v1", "Deployment", app, self.target_ns)
        assert found is not None, f"{app} is not in {self.target_ns}"
        return found

    def available(self, app: str) -> int:
        found = self.client.get("apps/v1", "Deployment", app, self.target_ns) or {}
        return int((found.get("status") or {}).get("availableReplicas") or 0)

    def events(self, reason: str) -> list[dict[str, Any]]:
        """Events the reconciler recorded on the apps' objects (they go to the object's namespace)."""
        listing = self.client.request("GET", f"/api/v1/namespaces/{self.target_ns}/events")
        return [e for e in listing.get("items", []) if e.get("reason") == reason]

    def source_status(self) -> dict[str, str]:
        cm = self.client.get("v1", "ConfigMap", f"handoff-status-{self.name}", self.control_ns)
        return dict((cm or {}).get("data") or {})
