"""Finding the pinned tool binaries and running them as children: the one place handoff spawns helm,
kustomize, kubeconform and git.

A child runs in its own process group, so a timeout kills it with everything it started (git's
``remote-http`` helper, helm's plugins) instead of leaving them holding the output pipes.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from handoff.errors import RenderError, ToolMissingError

TOOLS_DIR_ENV = "HANDOFF_TOOLS_DIR"
DEFAULT_TIMEOUT = 300.0


def find_tool(name: str) -> Path | None:
    """``$HANDOFF_TOOLS_DIR/name``, then the project's ``.tools/bin``, then PATH."""
    candidates: list[Path] = []
    if os.environ.get(TOOLS_DIR_ENV):
        candidates.append(Path(os.environ[TOOLS_DIR_ENV]) / name)
    candidates.append(Path(__file__).resolve().parents[1] / ".tools" / "bin" / name)
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which(name)
    return Path(found) if found else None


def require_tool(name: str, purpose: str) -> Path:
    tool = find_tool(name)
    if tool is None:
        raise ToolMissingError(f"{name} is not installed (needed to {purpose}); put it on PATH")
    return tool


@dataclass(frozen=True)
class Finished:
    returncode: int
    stdout: bytes
    stderr: bytes


class TimedOut(Exception):
    """The child ran past its deadline; it and its process group were killed."""

    def __init__(self, timeout: float) -> None:
        super().__init__(f"timed out after {timeout:g}s")
        self.timeout = timeout


def run(argv: Sequence[str | Path], *, timeout: float = DEFAULT_TIMEOUT, cwd: Path | None = None,
        env: Mapping[str, str] | None = None, input_bytes: bytes | None = None) -> Finished:
    """Run ``argv`` to completion and capture its output; a non-zero exit is the caller's to judge.

    Raises :class:`TimedOut` past ``timeout`` seconds and ``OSError`` when the binary cannot start."""
    proc = subprocess.Popen([str(a) for a in argv], cwd=cwd, env=None if env is None else dict(env),
                            stdin=subprocess.DEVNULL if input_bytes is None else subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        stdout, stderr = proc.communicate(input_bytes, timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        raise TimedOut(timeout) from None
    except BaseException:  # interrupted (Ctrl-C): the child must not outlive us
        _kill_group(proc)
        raise
    return Finished(proc.returncode, stdout, stderr)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):  # it ended on its own meanwhile
        os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate()


def run_tool(argv: Sequence[str | Path], *, what: str, cwd: Path | None = None,
             timeout: float = DEFAULT_TIMEOUT) -> str:
    """Run a renderer and return its stdout; failing to start, timing out or a non-zero exit is a
    ``RenderError`` naming ``what`` (with the end of its stderr)."""
    name = Path(str(argv[0])).name
    try:
        done = run(argv, timeout=timeout, cwd=cwd)
    except OSError as e:
        raise RenderError(f"{what}: cannot run {argv[0]}: {e}") from e
    except TimedOut as e:
        raise RenderError(f"{what}: {name} {e}") from e
    if done.returncode != 0:
        stderr = done.stderr.decode(errors="replace").strip().splitlines()
        detail = " ".join(stderr[-3:]) or f"exit code {done.returncode}"
        raise RenderError(f"{what}: {detail}")
    try:
        text = done.stdout.decode("utf-8")
    except UnicodeDecodeError as e:
        raise RenderError(f"{what}: {name} wrote output that is not valid UTF-8 (byte {e.start})") from e
    return text.replace("\r\n", "\n").replace("\r", "\n")  # universal newlines, as text mode reads
