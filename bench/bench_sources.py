"""Many Source objects on one reconciler: N ``handoff.dev/v1`` Sources, one app each (Deployment + Service +
ConfigMap, as in ``bench_reconciler.py``), all in one config repository and ref, served by one
``handoff reconcile --sources-from crd`` process on a real kube-apiserver + etcd and git server.

Measured: first full sync (process start until every Source is Ready at the repository's head), the
steady-state round (one pass over all N when nothing changed: from the first pass's start to the last
pass's end, read from the reconciler's own ``pass finished`` log lines), and the process's peak RSS
(VmHWM). Flux cannot run here, so its published figures are named, not measured.

    .venv/bin/python bench/bench_sources.py [N ...]     # default 500
"""

from __future__ import annotations

import base64
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_reconciler import app_yaml, fmt_s, vm_hwm_mib, wait  # noqa: E402
from handoff.kube.client import KubeClient, connect  # noqa: E402
from handoff.reconciler.sourcecrd import API_VERSION, CRD_NAME, KIND, crd  # noqa: E402
from tests.harness.apiserver import ApiServer  # noqa: E402
from tests.harness.git_server import GitServer  # noqa: E402
from tests.harness.ports import free_port  # noqa: E402
from tests.harness.tools import find_tool  # noqa: E402

INTERVAL = "1s"  # every Source due again at once: steady rounds follow the first sync at once
STEADY_ROUNDS = 3
# fluxcd/flux-benchmark RESULTS.md (commit 044015c7d636), Flux v2.6.0, kustomize-controller, GitHub
# ubuntu-latest-16-cores runner, controller limited to 2 CPU / concurrency 20
FLUX_PUBLISHED = {500: ("2m2s", "122 MiB"), 1000: ("4m16s", "175 MiB")}


def install_crd(client: KubeClient) -> None:
    client.apply(crd())

    def established() -> bool:
        got = client.get("apiextensions.k8s.io/v1", "CustomResourceDefinition", CRD_NAME) or {}
        return any(c.get("type") == "Established" and c.get("status") == "True"
                   for c in (got.get("status") or {}).get("conditions") or ())

    wait(established, 60, "the Source CRD")
    client.forget_discovery()


def ready_at(client: KubeClient, namespace: str, revision: str) -> int:
    count = 0
    for obj in client.list(API_VERSION, KIND, namespace=namespace):
        st = obj.get("status") or {}
        ok = any(c.get("type") == "Ready" and c.get("status") == "True" for c in st.get("conditions") or ())
        count += ok and st.get("lastAppliedRevision") == revision
    return count


def passes(log: Path) -> dict[str, list[tuple[float, float]]]:
    """Each source's passes in order, as (start, end) in epoch seconds, from the JSON log."""
    out: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for line in log.read_text().splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if rec.get("msg") != "pass finished":
            continue
        end = datetime.datetime.strptime(rec["ts"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(
            tzinfo=datetime.UTC).timestamp()
        out[str(rec["source"])].append((end - float(rec["seconds"]), end))
    return out


def round_seconds(by_source: dict[str, list[tuple[float, float]]], k: int) -> float:
    """The loop's work in round ``k``: every source's k-th pass, summed (the passes run one after
    another on the loop's thread; the ticks between them, when nothing is due, are not work)."""
    return sum(p[k][1] - p[k][0] for p in by_source.values())


def run(n: int, api: ApiServer, git: GitServer, work: Path) -> dict[str, float]:
    client = connect(api.kubeconfig)
    install_crd(client)
    control, ns = f"bench-src-ctl-{n}", f"bench-src-{n}"
    for name in (control, ns):
        client.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    url = git.create_repo(f"sources-{n}", {f"apps/app-{i}/app.yaml": app_yaml(i) for i in range(n)})
    head = subprocess.run([str(git.git), "--git-dir", str(git.bare_path(f"sources-{n}")), "rev-parse", "HEAD"],
                          capture_output=True, text=True, check=True).stdout.strip()
    client.apply({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "git", "namespace": ns},
                  "data": {"token": base64.b64encode(str(git.password).encode()).decode(),
                           "username": base64.b64encode(str(git.username).encode()).decode()}})
    for i in range(n):
        client.create({"apiVersion": API_VERSION, "kind": KIND,
                       "metadata": {"name": f"app-{i}", "namespace": ns},
                       "spec": {"url": url, "path": f"apps/app-{i}", "renderer": "plain",
                                "interval": INTERVAL, "secretRef": {"name": "git"}}})
    log = work / f"reconciler-{n}.log"
    profile = ["-m", "cProfile", "-o", os.environ["BENCH_PROFILE"]] if os.environ.get("BENCH_PROFILE") else []
    argv = [sys.executable, *profile, "-m", "handoff", "reconcile", "--kubeconfig", str(api.kubeconfig),
            "--sources-from", "crd", "--allow-private-hosts", "--namespace", control, "--no-leader-elect",
            "--metrics-addr", f"127.0.0.1:{free_port()}", "--workdir", str(work / f"w{n}")]
    started = time.monotonic()
    proc = subprocess.Popen(argv, stderr=log.open("wb"), stdout=subprocess.DEVNULL, cwd=ROOT)
    try:
        wait(lambda: ready_at(client, ns, head) == n, 3600, "every Source Ready")
        first_sync = time.monotonic() - started
        sync_requests = len(git.requests)
        wait(lambda: len(passes(log)) == n and min(len(p) for p in passes(log).values()) > STEADY_ROUNDS,
             3600, "steady rounds")
        by_source = passes(log)
        rounds_requests = len(git.requests) - sync_requests
        steady = statistics.median(round_seconds(by_source, k) for k in range(1, STEADY_ROUNDS + 1))
        rss = vm_hwm_mib(proc.pid)
    finally:
        proc.terminate()
        proc.wait(60)
    return {"sources": n, "objects": 3 * n, "first_sync": first_sync, "steady": steady,
            "per_pass_ms": steady / n * 1000, "rss": rss, "git_sync": sync_requests,
            "git_round": rounds_requests / STEADY_ROUNDS}


def single_source_rows() -> list[str]:
    """The one-source figures of reconciler.md (one source holding every app), in this table's columns."""
    out = []
    for line in (ROOT / "bench" / "results" / "reconciler.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 7 and cells[0].isdigit():
            out.append(f"| 1 holding {cells[0]} apps (reconciler.md) | {cells[1]} | {cells[2]} | {cells[3]} | | "
                       f"{cells[5]} | | - |")
    return out


def table(rows: list[dict[str, float]]) -> str:
    lines = [
        "## Source objects (handoff reconcile --sources-from crd, one app per Source, one repository)",
        "",
        f"Machine: {os.cpu_count()} cores, shared with other work; kube-apiserver + etcd and the git server on "
        f"the same machine; every Source at interval {INTERVAL}; a steady round is the sum of one pass of "
        "every Source, read from the reconciler's log. One app = Deployment + Service + ConfigMap. All Sources name the same repository "
        "and ref, so the reconciler keeps one clone and runs one ls-remote per round for all of them.",
        "",
        "| Sources | objects | first full sync | steady round (all Sources' passes) | mean pass | peak RSS | "
        "git requests (first sync / per round) | Flux published (Kustomizations: sync / memory) |",
        "|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        flux = FLUX_PUBLISHED.get(int(r["sources"]))
        lines.append(f"| {int(r['sources'])} | {int(r['objects'])} | {fmt_s(r['first_sync'])} | "
                     f"{fmt_s(r['steady'])} | {r['per_pass_ms']:.1f} ms | {r['rss']:.0f} MiB | "
                     f"{int(r['git_sync'])} / {r['git_round']:.0f} | "
                     f"{f'{flux[0]} / {flux[1]}' if flux else '-'} |")
    lines += [*single_source_rows(), "| 1000 (Flux only) | | | | | | | 4m16s / 175 MiB |",
        "",
        "Targets (issue 18): peak RSS under 150 MiB, a steady round over all 500 under 5 s. The "
        "\"1 holding N apps\" rows are the single-source figures of reconciler.md (bench_reconciler.py), "
        "copied here for comparison: one source whose one path holds every app.",
        "",
        "Before one list per kind and namespace a round and status writes only on change (this bench "
        "once at 20 Sources, the shared fetch already in): a steady pass cost about 90 ms per Source "
        "(three labelled lists, a status ConfigMap read and write each), about 45 s a round at 500 by "
        "extrapolation, not measured.",
        "",
        "Flux figures are as published in fluxcd/flux-benchmark RESULTS.md (Flux v2.6.0, "
        "kustomize-controller, 16-core GitHub runner, 2 CPU / concurrency 20): named as published, not "
        "measured here, so no ratio is claimed. The issue quotes 4m13s at 223 MiB for 1000 "
        "Kustomizations; that pair is not in the published results this bench could find (the nearest: "
        "v2.3.0 4m15s / 190 MiB, v2.6.0 4m16s / 175 MiB).",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    sizes = [int(a) for a in argv] or [500]
    tools = {name: find_tool(name) for name in ("kube-apiserver", "etcd", "git")}
    missing = [name for name, path in tools.items() if path is None]
    if missing:
        print(f"bench_sources: missing tools {', '.join(missing)} (run `make tools`)", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="handoff-bench-sources-") as tmp:
        work = Path(tmp)
        (work / "api").mkdir()
        (work / "git").mkdir()
        api = ApiServer(tools["kube-apiserver"], tools["etcd"], work / "api")  # type: ignore[arg-type]
        git = GitServer(tools["git"], work / "git")  # type: ignore[arg-type]
        api.start()
        git.start()
        try:
            rows = [run(n, api, git, work) for n in sizes]
        finally:
            git.stop()
            api.stop()
    text = table(rows)
    print(text)
    out = ROOT / "bench" / "results" / "sources.md"
    tmp_out = out.with_suffix(".md.tmp")
    tmp_out.write_text(text)
    tmp_out.replace(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
