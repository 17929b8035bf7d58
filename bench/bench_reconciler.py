"""Reconciler benchmark in the style of fluxcd/flux-benchmark: N apps (Deployment + Service + ConfigMap
each) from one config repo on a real kube-apiserver + etcd and git server.

For each N: time to first full sync, steady-state loop time, drift-revert latency (a field changed by
another field manager until handoff has put it back) and the reconciler process's peak RSS (VmHWM).
Flux cannot run here (no cluster, no registry for its images), so its published figures are shown as a
reference, not as a same-run measurement.

    .venv/bin/python bench/bench_reconciler.py [10 100 500]
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from handoff.kube.client import connect  # noqa: E402
from handoff.report.model import ObjectRef  # noqa: E402
from tests.harness.apiserver import ApiServer  # noqa: E402
from tests.harness.git_server import GitServer  # noqa: E402
from tests.harness.ports import free_port  # noqa: E402
from tests.harness.tools import find_tool  # noqa: E402

INTERVAL = 2.0
# fluxcd/flux-benchmark README (16-core GitHub runner, Kustomizations each with Deployment+Service+ConfigMap)
FLUX_PUBLISHED = {100: ("26s", "32 MiB"), 1000: ("4m13s", "223 MiB")}


def app_yaml(i: int) -> str:
    return f"""apiVersion: apps/v1
kind: Deployment
metadata: {{name: app-{i}}}
spec:
  selector: {{matchLabels: {{app: app-{i}}}}}
  template:
    metadata: {{labels: {{app: app-{i}}}}}
    spec:
      containers:
        - name: app
          image: registry.example/app:1.0.{i}
          resources: {{requests: {{cpu: 0.1, memory: 32Mi}}, limits: {{cpu: 0.5, memory: 64Mi}}}}
---
apiVersion: v1
kind: Service
metadata: {{name: app-{i}}}
spec:
  selector: {{app: app-{i}}}
  ports: [{{port: 80, targetPort: 8080}}]
---
apiVersion: v1
kind: ConfigMap
metadata: {{name: app-{i}}}
data: {{mode: prod, index: "{i}"}}
"""


def vm_hwm_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def pass_seconds(log: Path) -> list[float]:
    out = []
    for line in log.read_text().splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if rec.get("msg") == "pass finished":
            out.append(float(rec["seconds"]))
    return out


def wait(check: Any, timeout: float, what: str) -> float:
    start = time.monotonic()
    while not check():
        if time.monotonic() - start > timeout:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.05)
    return time.monotonic() - start


def run_one(n: int, api: ApiServer, git: GitServer, work: Path) -> dict[str, float]:
    client = connect(api.kubeconfig)
    control, target = f"bench-ctl-{n}", f"bench-{n}"
    for ns in (control, target):
        client.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    url = git.create_repo(f"bench-{n}", {f"apps/app-{i}.yaml": app_yaml(i) for i in range(n)})
    token = work / f"token-{n}"
    token.write_text(str(git.password))
    log = work / f"reconciler-{n}.log"
    argv = [sys.executable, "-m", "handoff", "reconcile", "--kubeconfig", str(api.kubeconfig), "--repo", url,
            "--path", "apps", "--name", f"bench-{n}", "--target-namespace", target, "--namespace", control,
            "--interval", f"{INTERVAL}s", "--token-file", str(token), "--git-username", str(git.username),
            "--no-leader-elect", "--metrics-addr", f"127.0.0.1:{free_port()}", "--workdir", str(work / f"w{n}")]
    started = time.monotonic()
    proc = subprocess.Popen(argv, stderr=log.open("wb"), stdout=subprocess.DEVNULL, cwd=ROOT)
    status_name = f"handoff-status-bench-{n}"

    def synced() -> bool:
        cm = client.get("v1", "ConfigMap", status_name, control)
        return bool(cm and (cm.get("data") or {}).get("result") == "Succeeded")

    try:
        wait(synced, 1800, "first sync")
        first_sync = time.monotonic() - started
        wait(lambda: len(pass_seconds(log)) >= 4, 1800, "steady-state passes")
        steady = statistics.median(pass_seconds(log)[1:4])
        ref = ObjectRef("v1", "ConfigMap", f"app-{n // 2}", target)
        client.patch(ref, {"data": {"mode": "debug"}}, content_type="application/merge-patch+json",
                     params={"fieldManager": "intruder"})
        changed = time.monotonic()

        def reverted() -> bool:
            cm = client.get("v1", "ConfigMap", ref.name, target)
            return bool(cm and cm["data"]["mode"] == "prod")

        wait(reverted, 600, "drift revert")
        drift_latency = time.monotonic() - changed
        rss = vm_hwm_mib(proc.pid)
    finally:
        proc.terminate()
        proc.wait(60)
    return {"apps": n, "objects": 3 * n, "first_sync": first_sync, "steady": steady,
            "drift": drift_latency, "rss": rss}


def fmt_s(seconds: float) -> str:
    return f"{seconds:.1f}s" if seconds < 60 else f"{int(seconds // 60)}m{seconds % 60:02.0f}s"


def main(argv: list[str]) -> int:
    sizes = [int(a) for a in argv] or [10, 100, 500]
    tools = {name: find_tool(name) for name in ("kube-apiserver", "etcd", "git")}
    missing = [name for name, path in tools.items() if path is None]
    if missing:
        print(f"bench_reconciler: missing tools {', '.join(missing)} (run `make tools`)", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="handoff-bench-reconciler-") as tmp:
        work = Path(tmp)
        (work / "api").mkdir()
        (work / "git").mkdir()
        api = ApiServer(tools["kube-apiserver"], tools["etcd"], work / "api")  # type: ignore[arg-type]
        git = GitServer(tools["git"], work / "git")  # type: ignore[arg-type]
        api.start()
        git.start()
        try:
            rows = [run_one(n, api, git, work) for n in sizes]
        finally:
            git.stop()
            api.stop()
    lines = [
        "## Reconciler (handoff reconcile, one source, plain manifests)",
        "",
        f"Machine: {os.cpu_count()} cores; kube-apiserver + etcd and the git server on the same machine; "
        f"interval {INTERVAL:.0f}s (drift-revert latency includes waiting for the next pass).",
        "",
        "| apps | objects | first full sync | steady-state loop | drift-revert latency | peak RSS | "
        "Flux published (sync / memory) |",
        "|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        flux = FLUX_PUBLISHED.get(int(r["apps"]))
        lines.append(f"| {int(r['apps'])} | {int(r['objects'])} | {fmt_s(r['first_sync'])} | "
                     f"{fmt_s(r['steady'])} | {fmt_s(r['drift'])} | {r['rss']:.0f} MiB | "
                     f"{f'{flux[0]} / {flux[1]}' if flux else '-'} |")
    lines += ["", "Flux figures are from fluxcd/flux-benchmark (16-core runner, one Kustomization per app); "
              "they were not measured in this run, so no ratio is claimed. Target: < 100 MiB at 500 apps.", ""]
    text = "\n".join(lines)
    print(text)
    out = ROOT / "bench" / "results" / "reconciler.md"
    tmp_out = out.with_suffix(".md.tmp")
    tmp_out.write_text(text)
    tmp_out.replace(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
