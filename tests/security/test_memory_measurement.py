"""The memory tests' own measurement: a child's peak is its own, not the size of the pytest process that
started it (``ru_maxrss`` of a vfork'ed child starts at its parent's high-water mark; by the end of the
full suite pytest holds ~600 MiB, and a git child refusing a blob was reported at 596 MiB)."""

from __future__ import annotations

import sys
from pathlib import Path

from tests.harness.memory import peak_rss

MIB = 1024


def test_a_big_test_process_does_not_inflate_a_small_child(tmp_path: Path) -> None:
    ballast = bytearray(400 * 1024 * 1024)
    ballast[::4096] = b"\1" * len(ballast[::4096])  # touch every page: resident, not just reserved
    code, _, tree_kib = peak_rss(["true"], tmp_path / "true.log")
    del ballast
    assert code == 0
    assert tree_kib < 64 * MIB, f"`true` measured at {tree_kib // MIB} MiB: the parent's size leaked in"


def test_a_big_child_is_measured_as_big(tmp_path: Path) -> None:
    grow = "b = bytearray(200 * 1024 * 1024); b[::4096] = b'\\1' * len(b[::4096])"
    code, own_kib, tree_kib = peak_rss([sys.executable, "-c", grow], tmp_path / "grow.log")
    assert code == 0
    assert own_kib > 200 * MIB and tree_kib > 200 * MIB, (own_kib, tree_kib)
