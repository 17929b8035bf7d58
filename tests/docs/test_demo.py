"""`make demo` is the first thing a new user runs: the embedded example must go end to end — bump,
validate, a direct commit for dev, and a promotion PR for prod whose proposal carries the diffs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.harness.tools import require_tool

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo.sh"

pytestmark = [pytest.mark.tools]


def test_demo_runs_the_whole_handoff(tmp_path: Path) -> None:
    kustomize = require_tool("kustomize")
    env = {**os.environ, "TMPDIR": str(tmp_path), "HANDOFF": str(Path(sys.executable).parent / "handoff"),
           "PATH": f"{kustomize.parent}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.run(["bash", str(DEMO)], capture_output=True, text=True, env=env, timeout=300,
                          check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout
    lines = out.splitlines()
    assert '-  tag: "1.4.1"   # bumped by CI' in lines and '+  tag: "1.5.0"   # bumped by CI' in lines  # style kept
    assert '"changed": false' in out  # the same bump again is a no-op
    assert "updated: committed ghcr.io/acme/web:1.5.0@sha256:" in out  # dev: direct mode
    proposal = out.split("(the PR body)", 1)[1]
    assert proposal.startswith("\n# handoff: web ghcr.io/acme/web:1.5.0@sha256:")
    assert "### Rendered change (prod)" in proposal
    assert "+            image: ghcr.io/acme/web:1.5.0@sha256:" in proposal
    assert '"operation": "none"' in out  # promoting again changes nothing
    assert not list(tmp_path.iterdir()), "the demo left its throwaway directory behind"
