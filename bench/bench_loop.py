"""The GitOps loop, timed: from the merge of dev's proposals (one ``git push`` to main) to the "healthy"
commit status on that commit, for 1 and 50 apps, on real components (the workload cluster: kube-apiserver,
controller-manager, scheduler, KWOK; the harness git server and registry; the reconciler in-process from
its config file, interval 1s, polling; statuses on the local forge's notes ref).

The 50 apps are one source with 50 Deployments (2 replicas each) in ``envs/dev``; each round pushes a new
tag of every app to the registry, proposes each (``handoff propose --resolve-digest``), merges the 50
branches with git in one push and waits for ``healthy``. Also counted per applied revision: the git round
trips the reconciler's status reporter made (its ``handoff_commit_status_api_calls`` gauge: fetches and
pushes of the notes ref) and the pushes the git server received for it. Measured, not asserted.

    .venv/bin/python bench/bench_loop.py [1 50] [--rounds N]
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import redirect_stdout
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.world import Loop, eventually  # noqa: E402
from tests.harness.cluster import WORKLOAD_TOOLS, WorkloadCluster  # noqa: E402
from tests.harness.git_server import GitServer  # noqa: E402
from tests.harness.registry import Registry  # noqa: E402
from tests.harness.tools import find_tool  # noqa: E402


def tool(name: str) -> Path:
    found = find_tool(name)
    if found is None:
        raise SystemExit(f"{name} is missing: run `make tools`")
    return found


def receive_packs(server: GitServer, repo: str) -> int:
    return sum(1 for line in server.requests if line.startswith(f"POST /{repo}.git/git-receive-pack"))


def git_head(server: GitServer, repo: str) -> str:
    return subprocess.run(["git", "--git-dir", str(server.bare_path(repo)), "rev-parse", "main"], check=True,
                          capture_output=True, text=True).stdout.strip()


def one_size(cluster: WorkloadCluster, git: GitServer, registry: Registry, work: Path, apps: int,
             rounds: int) -> dict[str, object]:
    names = ("web",) if apps == 1 else tuple(f"app{i:02d}" for i in range(apps))
    loop = Loop(cluster, git, registry, work, apps=names)
    seconds: list[float] = []
    applying: list[float] = []
    calls: list[int] = []
    pushes: list[int] = []
    status_table = ""
    with loop.running() as rec:
        eventually("first revision rolled out", lambda: all(loop.available(a) == 2 for a in names), 900)
        first = git_head(git, loop.name)
        eventually("first revision healthy", lambda: (s := loop.statuses(first).get("handoff/dev"))
                   and s.state == "healthy", 900)  # so no late post of it is counted in round 1
        for r in range(rounds):
            tag = f"2.{r}.0"
            for app in names:
                loop.push_image(app, tag)
                assert loop.propose(app, tag) == 0, f"propose {app}:{tag}"
            before = receive_packs(git, loop.name)
            merged = loop.merge(*(f"handoff/dev/{a}" for a in names))
            started = time.monotonic()
            seen: dict[str, float] = {}

            def reached(commit: str = merged, seen: dict[str, float] = seen, since: float = started) -> bool:
                status = loop.statuses(commit).get("handoff/dev")
                if status is not None:
                    seen.setdefault(status.state, time.monotonic() - since)
                return status is not None and status.state == "healthy"

            eventually(f"{merged[:12]} healthy", reached, 900)
            seconds.append(seen["healthy"])
            applying.append(seen.get("applying", seen["healthy"]))
            # the merge's own push is counted in `before`'s successor: one receive-pack from loop.merge
            pushes.append(receive_packs(git, loop.name) - before - 1)
            calls.append(int(rec.reporter.api_calls.labels(loop.name)._value.get()))
        if apps == 1:
            out = io.StringIO()
            with redirect_stdout(out):
                loop.cli("status")
            status_table = out.getvalue()
    return {"apps": apps, "seconds": seconds, "applying": applying, "calls": calls, "pushes": pushes, "status": status_table}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("sizes", nargs="*", type=int, default=[1, 50])
    parser.add_argument("--rounds", type=int, default=None, help="rounds per size (default 3 for 1 app, 2 above)")
    args = parser.parse_args(argv)
    os.environ["LOOP_GIT_TOKEN"] = ""
    with tempfile.TemporaryDirectory(prefix="bench-loop-") as tmp:
        base = Path(tmp)
        for d in (base / "cluster", base / "registry", base / "git"):
            d.mkdir()
        cluster = WorkloadCluster({n: tool(n) for n in WORKLOAD_TOOLS}, base / "cluster")
        registry = Registry(tool("docker-registry"), tool("skopeo"), tool("umoci"), base / "registry")
        git = GitServer(tool("git"), base / "git")
        cluster.start()
        registry.start()
        git.start()
        os.environ["LOOP_GIT_TOKEN"] = str(git.password)
        try:
            results = []
            for n in args.sizes:
                work = base / f"loop-{n}"
                work.mkdir()
                rounds = args.rounds or (3 if n == 1 else 2)
                results.append(one_size(cluster, git, registry, work, n, rounds))
                print(f"{n} apps: {results[-1]['seconds']}", file=sys.stderr)
        finally:
            git.stop()
            registry.stop()
            cluster.stop()
    load = os.getloadavg()[0]
    lines = [
        "## The GitOps loop: merge to \"healthy\" commit status (bench/bench_loop.py)",
        "",
        f"Machine: 2 cores shared with other jobs (load average {load:.1f} at the end); workload cluster "
        "(kube-apiserver + etcd, controller-manager, scheduler, KWOK), git server and registry on the same "
        "machine; reconciler in-process from its config file, interval 1s; statuses on the local forge "
        "(notes ref). N apps = one source with N Deployments of 2 replicas; each round merges N proposals "
        "in one push.",
        "",
        "| apps | rounds | merge → healthy (median) | each round | merge → applying seen (each round) "
        "| status git round trips per revision | status pushes per revision |",
        "|---:|---:|---:|---|---|---|---|",
    ]
    for r in results:
        secs = r["seconds"]
        assert isinstance(secs, list)
        lines.append(f"| {r['apps']} | {len(secs)} | {statistics.median(secs):.1f}s | "
                     f"{', '.join(f'{s:.1f}s' for s in secs)} | "
                     f"{', '.join(f'{s:.1f}s' for s in r['applying'])} | {', '.join(map(str, r['calls']))} "
                     f"| {', '.join(map(str, r['pushes']))} |")
    lines += ["", "Merge → applying: until the poller (a notes fetch every 0.2 s) first saw the `applying` "
              "status: the reconciler's next pass (interval 1s) fetched, rendered, applied. The rest is the "
              "rollout (KWOK makes pods Ready at once) and the pass that sees it finished.",
              "", "Round trips: the reporter's `handoff_commit_status_api_calls` (a fetch and a push of "
              "`refs/notes/handoff-status` per state posted: applying, then healthy) for the revision "
              "last reported; pushes: `git-receive-pack` requests the git server got after the merge "
              "(not counting it). With GitHub or GitLab each state is one API call instead.", ""]
    status = next((str(r["status"]) for r in results if r["status"]), "")
    if status:
        lines += ["`handoff status` after the 1-app run:", "", "```", status.rstrip("\n"), "```", ""]
    text = "\n".join(lines)
    out = ROOT / "bench" / "results" / "loop.md"
    out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
