"""Run every benchmark (`bench/bench_*.py`) and collect their markdown tables in bench/results/.

Each benchmark is a standalone script that measures handoff against the peer tool in the same run
and writes `bench/results/<area>.md`. Speed is measured here, never asserted in tests.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    only = set(argv)
    scripts = sorted(HERE.glob("bench_*.py"))
    failed = []
    for script in scripts:
        area = script.stem.removeprefix("bench_")
        if only and area not in only:
            continue
        print(f"== {area} ==", flush=True)
        rc = subprocess.call([sys.executable, str(script)], cwd=HERE.parent)
        if rc != 0:
            failed.append(area)
    results = sorted((HERE / "results").glob("*.md"))
    print("\nresults:", ", ".join(str(r.relative_to(HERE.parent)) for r in results))
    if failed:
        print("failed:", ", ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
