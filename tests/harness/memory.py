"""Peak resident memory of a command and the children it waits for, measured so a big test runner does not
inflate it.

``ru_maxrss`` of a process starts at its parent's size: exec records the replaced address space's
high-water mark, and under vfork (CPython's subprocess) that address space is the parent's. pytest holds
~600 MiB by the end of the full suite, so any child it starts directly reports that much, whatever the
child does. The command therefore runs under a small launcher (a fresh interpreter of a few MiB), which
starts it, samples its ``VmHWM`` (per address space, so honest) and reports ``wait4``'s figure for it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

_LAUNCHER = """\
import json, os, subprocess, sys, time
result, argv = sys.argv[1], sys.argv[2:]
proc = subprocess.Popen(argv)
hwm = 0
while True:
    pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
    if pid:
        break
    try:
        with open(f"/proc/{proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    hwm = max(hwm, int(line.split()[1]))
    except OSError:
        pass
    time.sleep(0.02)
with open(result, "w") as f:
    json.dump({"code": os.waitstatus_to_exitcode(status), "hwm": hwm, "tree": usage.ru_maxrss}, f)
"""


def peak_rss(argv: list[str], out: Path) -> tuple[int, int, int]:
    """Run ``argv`` with stdout and stderr to ``out``; (exit code, its own peak ``VmHWM`` in KiB, the
    largest ``ru_maxrss`` in KiB of it and the children it waited for, e.g. helm or git)."""
    result = out.with_name(out.name + ".rss.json")
    with out.open("wb") as sink:
        subprocess.run([sys.executable, "-c", _LAUNCHER, str(result), *argv], stdout=sink,
                       stderr=subprocess.STDOUT, check=True)
    measured = json.loads(result.read_text())
    return int(measured["code"]), int(measured["hwm"]), int(measured["tree"])
