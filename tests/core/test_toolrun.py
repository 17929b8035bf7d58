"""The one child runner: tool lookup, failures as one-line errors, a deadline that kills the whole group."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from handoff.errors import RenderError
from handoff.toolrun import MIB, TOOLS_DIR_ENV, TimedOut, find_tool, group_rss, run, run_tool


def test_the_tools_dir_comes_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pinned = tmp_path / "kustomize"
    pinned.write_text("#!/bin/sh\necho pinned\n")
    pinned.chmod(0o755)
    monkeypatch.setenv(TOOLS_DIR_ENV, str(tmp_path))
    assert find_tool("kustomize") == pinned
    assert run_tool([pinned], what="kustomize build app") == "pinned\n"
    assert find_tool("no-such-tool-anywhere") is None


def test_output_and_input_are_bytes_and_the_exit_is_the_callers() -> None:
    done = run(["sh", "-c", "cat; echo oops >&2; exit 3"], input_bytes=b"in\n")
    assert (done.returncode, done.stdout, done.stderr) == (3, b"in\n", b"oops\n")


def test_a_failing_tool_is_a_render_error_with_the_end_of_its_stderr() -> None:
    with pytest.raises(RenderError, match=r"^helm template chart: line 3 line 4 line 5$"):
        run_tool(["sh", "-c", "for i in 1 2 3 4 5; do echo line $i >&2; done; exit 1"], what="helm template chart")


def test_a_missing_binary_is_a_render_error(tmp_path: Path) -> None:
    with pytest.raises(RenderError, match="kustomize build app: cannot run"):
        run_tool([tmp_path / "kustomize"], what="kustomize build app")


def test_output_that_is_not_utf8_is_a_render_error() -> None:
    with pytest.raises(RenderError, match="not valid UTF-8"):
        run_tool(["printf", "a: \\377\\n"], what="helm template chart")


@pytest.mark.timeout(60)
def test_a_deadline_kills_the_child_and_everything_it_started(tmp_path: Path) -> None:
    """The background sleep holds the output pipe: unless the whole process group dies, reading the
    output to its end would wait for it (this test would then hit its own timeout, not pass)."""
    pid_file = tmp_path / "pid"
    with pytest.raises(TimedOut, match=r"timed out after 0\.5s"):
        run(["sh", "-c", f"sleep 300 & echo $! > {pid_file}; wait"], timeout=0.5)
    with pytest.raises(RenderError, match=r"helm template chart: sh timed out after 0\.5s"):
        run_tool(["sh", "-c", "sleep 300 & wait"], what="helm template chart", timeout=0.5)
    grandchild = int(pid_file.read_text())
    try:
        os.kill(grandchild, 0)
    except ProcessLookupError:
        return
    # still listed: it may only be a zombie waiting for its new parent to reap it, never a sleeper
    state = Path(f"/proc/{grandchild}/stat").read_text().split(") ")[-1].split()[0]
    assert state == "Z"


_HOG = "import sys, time; block = bytearray(192 * 2**20); sys.stdout.write('x'); time.sleep(60)"


@pytest.mark.timeout(120)
def test_a_child_group_past_its_memory_cap_is_killed_with_one_line(tmp_path: Path) -> None:
    """The hog is a grandchild (sh starts it in the background): the cap counts the whole process group."""
    pid_file = tmp_path / "pid"
    with pytest.raises(RenderError) as refused:
        run_tool(["sh", "-c", f"{sys.executable} -c \"{_HOG}\" & echo $! > {pid_file}; wait"],
                 what="helm template chart", max_rss=64 * MIB, memory_hint="--max-child-memory")
    assert str(refused.value) == ("helm template chart: sh killed over the 64 MiB child memory cap "
                                  "(--max-child-memory)")
    stat = Path(f"/proc/{int(pid_file.read_text())}/stat")
    while stat.exists() and stat.read_text().split(") ")[-1][0] != "Z":  # SIGKILLed: gone once it is torn down
        time.sleep(0.05)


def test_a_child_under_its_memory_cap_runs_to_the_end() -> None:
    assert run_tool(["sh", "-c", "echo ok"], what="kustomize build app", max_rss=64 * MIB) == "ok\n"
    assert group_rss(os.getpgrp()) > 0  # this test's own group is resident
