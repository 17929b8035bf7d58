"""Background server processes that always die with the test run and keep their output for failure reports."""

import atexit
import ctypes
import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

_PR_SET_PDEATHSIG = 1
_prctl = ctypes.CDLL(None, use_errno=True).prctl  # resolved here: the forked child must not load anything
_running: set["ServerProcess"] = set()


def _die_with_parent() -> None:
    # Runs in the child before exec: if pytest is killed outright, the kernel still stops the server.
    _prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class ServerProcess:
    """One long-running process with its output in a log file; restartable with the same arguments."""

    def __init__(
        self, name: str, argv: Sequence[str], log_file: Path, env: dict[str, str] | None = None
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_file = log_file
        self.env = env
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> None:
        if self.running:
            return
        with self.log_file.open("ab") as log:
            log.write(f"--- starting {self.name}: {' '.join(self.argv)}\n".encode())
            log.flush()
            self._proc = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
                start_new_session=True,
                preexec_fn=_die_with_parent,  # noqa: PLW1509 - only a prctl call, nothing to deadlock on
            )
        _running.add(self)

    def stop(self, timeout: float = 10.0) -> None:
        proc, self._proc = self._proc, None
        _running.discard(self)
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def exit_code(self) -> int | None:
        return None if self._proc is None else self._proc.poll()

    def log_tail(self, lines: int = 60) -> str:
        try:
            text = self.log_file.read_text(errors="replace")
        except FileNotFoundError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def wait_until(self, ready: Callable[[], bool], timeout: float, what: str) -> None:
        """Poll ``ready`` until it holds; fail with the log tail if the process exits or time runs out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running:
                raise RuntimeError(
                    f"{self.name} exited ({self.exit_code()}) before {what}:\n{self.log_tail()}"
                )
            if ready():
                return
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} not {what} after {timeout:.0f}s:\n{self.log_tail()}")


@atexit.register
def _stop_all() -> None:
    for server in list(_running):
        server.stop(timeout=5)


def clean_env(**extra: str) -> dict[str, str]:
    """The caller's environment without proxy settings (servers here only talk to 127.0.0.1)."""
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.update(extra)
    return env
