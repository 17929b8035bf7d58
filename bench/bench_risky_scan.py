"""The fast YAML path's safety scan (``fastyaml.risky``) on long flow lines: ``x: [1,1,...]`` of N items,
the shape issue 13 found quadratic (20,000 items took 10 s in the old pattern, 1.44M ran for minutes).
Each row is the best of 3 scans; time per item staying flat as N grows is the linearity. The old pattern
is timed only where it finishes in seconds. Writes bench/results/risky_scan.md.
"""

from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from handoff.manifests import fastyaml  # noqa: E402

SIZES = (20_000, 200_000, 1_440_000)
OLD_UP_TO = 20_000
_OLD_REST = r"[^\s:]*[ \t]*:(?=[ \t]|$)"


def _best(scan: re.Pattern[str] | None, text: str) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        if scan is None:
            fastyaml.risky(text)
        else:
            scan.search("\n" + text)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> int:
    old = fastyaml.compile_rules([(first, before, _OLD_REST if rest == fastyaml._NUMERIC_KEY_REST else rest)
                                  for first, before, rest in fastyaml.RULES])
    rows = []
    for n in SIZES:
        line = "x: [" + ",".join(["1"] * n) + "]\n"
        new = _best(None, line)
        before = f"{_best(old, line):.3f}" if n <= OLD_UP_TO else "(minutes)"
        rows.append(f"| {n:,} | {len(line):,} | {new:.4f} | {new / n * 1e9:.0f} | {before} |")
    load = "/".join(f"{x:.2f}" for x in os.getloadavg())
    text = ("# Safety scan of long flow lines (issue 13)\n\n"
            f"Best of 3 scans per row; load average {load}; Python {sys.version.split()[0]}.\n\n"
            "| items | bytes | new scan s | new ns/item | old pattern s |\n|---:|---:|---:|---:|---:|\n"
            + "\n".join(rows) + "\n")
    out = ROOT / "bench" / "results" / "risky_scan.md"
    out.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
