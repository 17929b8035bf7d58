"""Sync-now latency: from a signed push webhook to the start of the pass it triggers, and to the new
commit being applied, on a real kube-apiserver + etcd and git server (one source, an hour-long interval,
so every pass measured is one the webhook caused). Measured here, never asserted in tests.

The annotation path: a Source object (interval 1 h) whose ``handoff.dev/requested-at`` annotation is set
to a new value; measured from the PATCH to the start of the pass the watch hands to the loop.

    .venv/bin/python bench/bench_sync_now.py [ROUNDS]
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from handoff.kube.client import KubeClient, connect  # noqa: E402
from handoff.reconciler.config import Credentials, PruneSettings, Settings, Source  # noqa: E402
from handoff.reconciler.loop import Reconciler  # noqa: E402
from handoff.reconciler.sourcecrd import API_VERSION, CRD_NAME, KIND, REQUESTED_AT, crd  # noqa: E402
from handoff.reconciler.sourceobjects import SourceObjects  # noqa: E402
from handoff.reconciler.status import PassResult  # noqa: E402
from handoff.reconciler.webhook import Receiver, secret_file, serve  # noqa: E402
from handoff.report.model import ObjectRef  # noqa: E402
from tests.harness.apiserver import ApiServer  # noqa: E402
from tests.harness.git_server import GitServer  # noqa: E402
from tests.harness.tools import find_tool  # noqa: E402
from tests.reconciler.gitrepo import WorkRepo  # noqa: E402
from tests.reconciler.webhooks import encode, github_headers, github_push, post  # noqa: E402

SECRET = "bench-secret"


def configmap(value: str) -> str:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bench\ndata:\n  value: '{value}'\n"


class TimedReconciler(Reconciler):
    """Records when each pass starts, the figure a sync request is about."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.starts: list[float] = []

    def reconcile(self, source: Source) -> PassResult:
        self.starts.append(time.monotonic())
        return super().reconcile(source)


def wait_for(check: Any, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError("the triggered pass did not happen")
        time.sleep(0.005)


def measure(rounds: int, api: ApiServer, git: GitServer, work: Path) -> tuple[list[float], list[float]]:
    client = connect(api.kubeconfig)
    uid = uuid.uuid4().hex[:6]
    control, target = f"bench-hs-{uid}", f"bench-app-{uid}"
    for ns in (control, target):
        client.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    url = git.create_repo(f"bench-{uid}", {"app/configmap.yaml": configmap("0")})
    repo = WorkRepo(work / "clone", f"file://{git.bare_path(f'bench-{uid}')}")
    token = work / "token"
    token.write_text(str(git.password))
    source = Source(name="bench", url=url, path="app", namespace=target, interval=3600.0,
                    credentials=Credentials(token_file=str(token), username=str(git.username)))
    rec = TimedReconciler(Settings(sources=(source,), namespace=control, prune=PruneSettings(),
                                   leader_election=False), client, work / "cache")
    (work / "secret").write_text(SECRET)
    server = serve(Receiver(rec, secret_file(work / "secret"), rec.metrics), "127.0.0.1:0")
    port = int(server.server_address[1])
    stop = threading.Event()
    loop = threading.Thread(target=rec.run, args=(stop,), daemon=True)
    loop.start()
    to_start, to_applied = [], []
    parts = urlsplit(url)
    owner, _, name = parts.path.strip("/").removesuffix(".git").rpartition("/")
    try:
        wait_for(lambda: rec.state["bench"].applied_revision != "")
        for i in range(1, rounds + 1):
            sha = repo.commit({"app/configmap.yaml": configmap(str(i))}, f"round {i}")
            seen = len(rec.starts)
            body = encode(github_push(owner, name, after=sha, host=parts.netloc))
            sent = time.monotonic()
            answer = post(port, body, github_headers(SECRET, body))
            assert answer.status == 202 and answer.body["triggered"] == 1, answer
            wait_for(lambda seen=seen: len(rec.starts) > seen)
            to_start.append(rec.starts[seen] - sent)
            wait_for(lambda sha=sha: rec.state["bench"].applied_revision == sha)
            to_applied.append(time.monotonic() - sent)
    finally:
        stop.set()
        loop.join(timeout=60)
        server.shutdown()
        server.server_close()
    return to_start, to_applied


def annotation_rounds(rounds: int, api: ApiServer, git: GitServer, work: Path) -> list[float]:
    """Set the sync-now annotation on a Source object ``rounds`` times; each time, how long until the
    pass it causes starts."""
    client = connect(api.kubeconfig)
    install_crd(client)
    uid = uuid.uuid4().hex[:6]
    control, ns = f"bench-hs-{uid}", f"bench-src-{uid}"
    for name in (control, ns):
        client.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    url = git.create_repo(f"bench-ann-{uid}", {"app/configmap.yaml": configmap("0")})
    client.apply({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "git", "namespace": ns},
                  "stringData": {"token": str(git.password), "username": str(git.username)}})
    client.create({"apiVersion": API_VERSION, "kind": KIND, "metadata": {"name": "bench", "namespace": ns},
                   "spec": {"url": url, "path": "app", "renderer": "plain", "interval": "1h",
                            "secretRef": {"name": "git"}}})
    rec = TimedReconciler(Settings(sources=(), namespace=control, prune=PruneSettings(),
                                   leader_election=False), client, work / "cache-annotation")
    objects = SourceObjects(rec, allow_private_hosts=True)  # the git server: loopback
    stop = threading.Event()
    objects.start(stop)
    loop = threading.Thread(target=rec.run, args=(stop,), daemon=True)
    loop.start()
    name = f"{ns}/bench"
    out = []
    try:
        wait_for(lambda: name in rec.state and rec.state[name].applied_revision != "")
        for i in range(1, rounds + 1):
            wait_for(lambda: not rec.due())  # the last pass finished: the next one is the request's
            seen = len(rec.starts)
            sent = time.monotonic()
            client.patch(ObjectRef(API_VERSION, KIND, "bench", ns),
                         {"metadata": {"annotations": {REQUESTED_AT: f"round-{i}-{uid}"}}},
                         content_type="application/merge-patch+json")
            wait_for(lambda seen=seen: len(rec.starts) > seen)
            out.append(rec.starts[seen] - sent)
    finally:
        stop.set()
        loop.join(timeout=60)
    return out


def install_crd(client: KubeClient) -> None:
    client.apply(crd())

    def established() -> bool:
        got = client.get("apiextensions.k8s.io/v1", "CustomResourceDefinition", CRD_NAME) or {}
        return any(c.get("type") == "Established" and c.get("status") == "True"
                   for c in (got.get("status") or {}).get("conditions") or ())

    wait_for(established)
    client.forget_discovery()


def row(label: str, values: list[float]) -> str:
    ms = sorted(v * 1000 for v in values)
    return (f"| {label} | {len(ms)} | {statistics.median(ms):.0f} | {ms[0]:.0f} | {ms[-1]:.0f} |")


def main(argv: list[str]) -> int:
    rounds = int(argv[0]) if argv else 10
    tools = {name: find_tool(name) for name in ("kube-apiserver", "etcd", "git")}
    missing = [name for name, path in tools.items() if path is None]
    if missing:
        print(f"bench_sync_now: missing tools {', '.join(missing)} (run `make tools`)", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="handoff-bench-sync-now-") as tmp:
        work = Path(tmp)
        (work / "api").mkdir()
        (work / "git").mkdir()
        api = ApiServer(tools["kube-apiserver"], tools["etcd"], work / "api")  # type: ignore[arg-type]
        git = GitServer(tools["git"], work / "git")  # type: ignore[arg-type]
        api.start()
        git.start()
        try:
            to_start, to_applied = measure(rounds, api, git, work)
            annotated = annotation_rounds(rounds, api, git, work)
        finally:
            git.stop()
            api.stop()
    lines = [
        "## Sync-now latency (one source, interval 1 h, loop tick 0.5 s)",
        "",
        f"Machine: {os.cpu_count()} cores, shared; kube-apiserver + etcd and the git server on the same "
        "machine. Each webhook round pushes a commit, then sends its signed GitHub push webhook over HTTP; "
        "each annotation round sets `handoff.dev/requested-at` on a Source object (interval 1 h) to a new value.",
        "",
        "| path | rounds | median ms | min ms | max ms |",
        "|---|---:|---:|---:|---:|",
        row("webhook → pass start", to_start),
        row("webhook → new commit applied", to_applied),
        row("annotation → pass start", annotated),
        "",
        "Target (issue 18): a pass starts within one second of the request. A request wakes the loop "
        "(``Reconciler.wake``) instead of waiting for its next 0.5 s tick; before that change this bench "
        "measured a median of 429 ms (webhook) and 518 ms (annotation) to the pass start.",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    out = ROOT / "bench" / "results" / "sync_now.md"
    tmp_out = out.with_suffix(".md.tmp")
    tmp_out.write_text(text)
    tmp_out.replace(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
