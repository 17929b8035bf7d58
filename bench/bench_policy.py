"""Policy throughput: handoff's built-in CEL pack vs conftest running the same checks in Rego.

The corpus manifests are replicated to >= 10,000 objects in a temp dir. conftest
(`conftest test --policy bench/rego`) parses the YAML and evaluates bench/rego/pack.rego, the pack's
checks with default params written in Rego. handoff is measured in-process twice: the policy step
alone on already-rendered objects (what `handoff validate` adds after schemas) and parse + policies.
Both sides' findings are counted per policy id, so the table also shows the two packs agree.
Writes bench/results/policy.md.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# the replicated tree is one render of ~10,000 objects, over the default caps of a single render (1,000,000
# YAML nodes, 10,000 objects: bounds.py); the bench measures speed, not those caps
os.environ.setdefault("HANDOFF_MAX_RENDER_NODES", "20000000")
os.environ.setdefault("HANDOFF_MAX_RENDER_OBJECTS", "100000")

from handoff.policy import PolicyCheck, PolicyOptions  # noqa: E402
from handoff.render import render_path  # noqa: E402
from handoff.report.model import Severity  # noqa: E402

CORPUS_CANDIDATES = [ROOT.parent / "shared" / "corpus", Path("/work/shared/corpus")]
REGO = ROOT / "bench" / "rego"
TARGET_OBJECTS = 10_000
RUNS = 3


def corpus() -> Path:
    for candidate in CORPUS_CANDIDATES:
        if (candidate / "manifests").is_dir():
            return candidate / "manifests"
    raise SystemExit("shared corpus not found")


def find_conftest() -> Path | None:
    linked = ROOT / ".tools" / "bin" / "conftest"
    if linked.exists():
        return linked
    found = shutil.which("conftest")
    return Path(found) if found else None


def replicate(work: Path) -> Path:
    source = corpus()
    tree = work / "manifests"
    shutil.copytree(source, tree / "copy0000", ignore=shutil.ignore_patterns("crds"))
    per_copy = len(render_path(tree, repo=tree).objects)
    for i in range(1, -(-TARGET_OBJECTS // per_copy)):
        shutil.copytree(tree / "copy0000", tree / f"copy{i:04d}")
    return tree


def best_of(fn: Callable[[], object], runs: int = RUNS) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def conftest_counts(conftest: Path, tree: Path) -> Counter[str]:
    command = [str(conftest), "test", "--no-color", "--output", "json", "--policy", str(REGO), str(tree)]
    run = subprocess.run(command, capture_output=True, text=True, check=False)
    if run.returncode not in (0, 1):
        raise SystemExit(f"conftest failed: {run.stderr.strip()}")
    counts: Counter[str] = Counter()
    for result in json.loads(run.stdout):
        for item in (result.get("failures") or []) + (result.get("warnings") or []):
            counts[item["msg"].split(":", 1)[0]] += 1
    return counts


def main() -> None:
    conftest = find_conftest()
    with tempfile.TemporaryDirectory(prefix="handoff-bench-policy-") as tmp:
        tree = replicate(Path(tmp))
        objects = render_path(tree, repo=tree).objects
        n = len(objects)
        check = PolicyCheck(PolicyOptions())
        report = check(objects)
        ours = Counter(f.rule for f in report.findings if f.severity >= Severity.WARNING)
        policy_only = best_of(lambda: check(objects))
        # Rendering maps findings back to source lines lazily, so this run pays for line numbers too.
        parse_and_policy = best_of(lambda: check(render_path(tree, repo=tree).objects), runs=1)
        rows = [
            ("handoff policies only (in-process, objects already rendered)", policy_only),
            ("handoff parse + policies (in-process)", parse_and_policy),
        ]
        theirs: Counter[str] = Counter()
        conftest_time = None
        if conftest is not None:
            theirs = conftest_counts(conftest, tree)
            conftest_time = best_of(lambda: subprocess.run(
                [str(conftest), "test", "--no-color", "--output", "json", "--policy", str(REGO), str(tree)],
                capture_output=True, check=False))
            rows.append(("conftest test (parse + Rego, Go)", conftest_time))

    lines = [
        "# Policy throughput",
        "",
        f"{n} objects (the shared corpus manifests replicated), full built-in pack with default params, "
        f"best of {RUNS}; conftest {'at ' + str(conftest) if conftest else 'not installed (run `make tools`)'}.",
        "",
        "| run | seconds | objects/s | vs conftest |",
        "|---|---:|---:|---:|",
    ]
    for name, seconds in rows:
        ratio = f"{conftest_time / seconds:.2f}x" if conftest_time else "n/a"
        lines.append(f"| {name} | {seconds:.2f} | {n / seconds:,.0f} | {ratio} |")
    lines += ["", "Findings per policy (warnings and errors) — the two packs must agree:", "",
              "| policy | handoff | conftest |", "|---|---:|---:|"]
    for rule in sorted(set(ours) | set(theirs)):
        lines.append(f"| {rule} | {ours.get(rule, 0)} | {theirs.get(rule, 0) if conftest else 'n/a'} |")
    text = "\n".join(lines) + "\n"
    out = ROOT / "bench" / "results" / "policy.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
