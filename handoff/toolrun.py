"""Finding the pinned tool binaries and running them as children: the one place handoff spawns helm,
kustomize, kubeconform and git.

A child runs in its own process group, so a timeout kills it with everything it started (git's
``remote-http`` helper, helm's plugins) instead of leaving them holding the output pipes.

Renderers and validators (``run_tool``, ``sandboxed``) get an allow-listed environment only: PATH, the
locale and a throwaway HOME/XDG/HELM/TMPDIR tree, never the job's tokens, kubeconfig, cloud
credentials or proxies (a proxy URL may carry credentials). An offline child also gets proxies pointing
at a closed loopback port and ``GIT_ALLOW_PROTOCOL=file``: a second line behind the remote-reference
scan in ``handoff.render.remote`` (Go never proxies loopback, so the scan is what stops 127.0.0.1).
Stdout is read up to a cap: past it the child is killed, never buffered whole. Memory is capped the same
way: while collecting output the runner samples the resident memory of the child's process group and
kills the group past a cap (``GOMEMLIMIT`` is only a hint to Go's collector, and ``RLIMIT_AS`` breaks Go,
which reserves ~800 MiB of address space at start).
"""

from __future__ import annotations

import contextlib
import os
import selectors
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from handoff.errors import RenderError, ToolMissingError
from handoff.fence import fenced

TOOLS_DIR_ENV = "HANDOFF_TOOLS_DIR"
DEFAULT_TIMEOUT = 300.0
_STDERR_TAIL = 64 * 1024  # what is kept of a child's stderr: its end, where errors are
_CHUNK = 64 * 1024
MIB = 1024 * 1024
# The only variables a renderer child inherits from the job (everything else is set by `sandboxed`).
INHERITED_ENV = ("PATH", "LANG", "LC_ALL")
# A port nothing listens on: offline children's proxies point there, so a fetch fails at once.
CLOSED_PROXY = "http://127.0.0.1:9"
# helm and kustomize are Go: a soft heap limit makes them collect before growing, so a chart rendering
# 22 MB peaks near 150 MiB instead of 300 MiB; the reconciler and its child share one 256Mi Pod limit.
CHILD_GOMEMLIMIT = "96MiB"
# How often a child's memory is sampled: helm rendering a dense chart grows ~20 MiB a second, and a sample
# reads /proc once (~1-2 ms).
RSS_SAMPLE_SECONDS = 0.05
_PAGE = os.sysconf("SC_PAGE_SIZE")


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


class OutputTooLarge(Exception):
    """The child wrote more than ``cap`` bytes to stdout; it and its process group were killed."""

    def __init__(self, cap: int) -> None:
        super().__init__(f"wrote more than {cap} bytes")
        self.cap = cap


class MemoryTooLarge(Exception):
    """The child's process group held more than ``cap`` bytes resident; it was killed."""

    def __init__(self, cap: int) -> None:
        super().__init__(f"used more than {cap} bytes of memory")
        self.cap = cap


def group_rss(pgid: int) -> int:
    """Resident bytes of every process in process group ``pgid`` (``/proc/PID/stat``: its ``rss`` field is
    the page count ``/proc/PID/status`` shows as VmRSS), 0 once none is left."""
    total = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry.name}/stat").read_bytes()
        except OSError:  # it exited meanwhile
            continue
        fields = stat[stat.rfind(b")") + 2:].split()  # after the command name, which may hold spaces
        if int(fields[2]) == pgid:  # state, ppid, pgrp, ... rss is field 24 of the whole line
            total += int(fields[21]) * _PAGE
    return total


@contextlib.contextmanager
def sandboxed(*, offline: bool = True) -> Iterator[dict[str, str]]:
    """The environment of a renderer child, with a throwaway HOME removed afterwards.

    HELM_* dirs and the ``--repository-config``/``--registry-config`` files (``HELM_REPOSITORY_CONFIG``,
    ``HELM_REGISTRY_CONFIG``) are empty, so no repository credentials or registry logins are in reach."""
    with tempfile.TemporaryDirectory(prefix="handoff-child-") as scratch:
        home = Path(scratch)
        dirs = {"HOME": home / "home", "XDG_CONFIG_HOME": home / "config", "XDG_CACHE_HOME": home / "cache",
                "XDG_DATA_HOME": home / "data", "XDG_STATE_HOME": home / "state",
                "HELM_CONFIG_HOME": home / "helm" / "config", "HELM_CACHE_HOME": home / "helm" / "cache",
                "HELM_DATA_HOME": home / "helm" / "data", "TMPDIR": home / "tmp"}
        for path in dirs.values():
            path.mkdir(parents=True)
        repositories = home / "helm" / "repositories.yaml"
        repositories.write_text("apiVersion: v1\nrepositories: []\n", encoding="utf-8")
        registry = home / "helm" / "registry.json"
        registry.write_text("{}\n", encoding="utf-8")
        env = {name: os.environ[name] for name in INHERITED_ENV if name in os.environ}
        env.setdefault("PATH", os.defpath)
        env.update({name: str(path) for name, path in dirs.items()})
        env.update({"HELM_REPOSITORY_CONFIG": str(repositories), "HELM_REGISTRY_CONFIG": str(registry),
                    "HELM_REPOSITORY_CACHE": str(dirs["HELM_CACHE_HOME"] / "repository"),
                    "GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0", "GOMEMLIMIT": CHILD_GOMEMLIMIT})
        if offline:
            for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
                env[name] = CLOSED_PROXY
            env["NO_PROXY"] = env["no_proxy"] = ""
            env["GIT_ALLOW_PROTOCOL"] = "file"
        yield env


def scratch_of(env: Mapping[str, str]) -> Path:
    """The throwaway tree :func:`sandboxed` made for ``env`` (HOME, TMPDIR and the rest are inside it)."""
    return Path(env["HOME"]).parent


def run(argv: Sequence[str | Path], *, timeout: float = DEFAULT_TIMEOUT, cwd: Path | None = None,
        env: Mapping[str, str] | None = None, input_bytes: bytes | None = None,
        max_stdout: int | None = None, max_rss: int | None = None,
        on_stdout: Callable[[bytes], None] | None = None) -> Finished:
    """Run ``argv`` to completion and capture its output; a non-zero exit is the caller's to judge.

    Raises :class:`TimedOut` past ``timeout`` seconds, :class:`OutputTooLarge` once stdout passes
    ``max_stdout`` bytes, :class:`MemoryTooLarge` once the child's process group holds more than
    ``max_rss`` bytes resident (sampled every ``RSS_SAMPLE_SECONDS``; the group is killed, what it wrote
    is dropped) and ``OSError`` when the binary cannot start. ``env=None`` inherits the environment:
    callers running repository content use :func:`sandboxed`. With ``on_stdout`` each chunk of stdout is
    handed to it as it arrives and not kept (``Finished.stdout`` is empty): a reader that has seen enough
    raises, and the child is killed with the exception passed on."""
    proc = subprocess.Popen([str(a) for a in argv], cwd=cwd, env=None if env is None else dict(env),
                            stdin=subprocess.DEVNULL if input_bytes is None else subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        if input_bytes is not None:
            threading.Thread(target=_feed, args=(proc, input_bytes), daemon=True).start()
        stdout, stderr = _collect(proc, time.monotonic() + timeout, timeout, max_stdout=max_stdout,
                                  max_rss=max_rss, on_stdout=on_stdout)
    except BaseException:  # timed out, too much output, interrupted: the child must not outlive us
        _kill_group(proc)
        raise
    return Finished(proc.returncode, stdout, stderr)


def _feed(proc: subprocess.Popen[bytes], data: bytes) -> None:
    assert proc.stdin is not None
    with contextlib.suppress(BrokenPipeError, OSError):  # the child may exit without reading it all
        proc.stdin.write(data)
        proc.stdin.close()


def _collect(proc: subprocess.Popen[bytes], deadline: float, timeout: float, *,
             max_stdout: int | None, max_rss: int | None,
             on_stdout: Callable[[bytes], None] | None) -> tuple[bytes, bytes]:
    assert proc.stdout is not None and proc.stderr is not None
    out: list[bytes] = []
    out_size = 0
    err = bytearray()
    next_sample = time.monotonic()
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ, "out")
        selector.register(proc.stderr, selectors.EVENT_READ, "err")
        while selector.get_map():
            now = time.monotonic()
            remaining = deadline - now
            if remaining <= 0:
                raise TimedOut(timeout)
            if max_rss is not None:
                if now >= next_sample:
                    if group_rss(proc.pid) > max_rss:
                        raise MemoryTooLarge(max_rss)
                    next_sample = now + RSS_SAMPLE_SECONDS
                remaining = min(remaining, max(next_sample - now, 0.0))
            for key, _ in selector.select(remaining):
                chunk = os.read(key.fd, _CHUNK)
                if not chunk:
                    selector.unregister(key.fileobj)
                elif key.data == "out":
                    out_size += len(chunk)
                    if max_stdout is not None and out_size > max_stdout:
                        raise OutputTooLarge(max_stdout)
                    if on_stdout is None:
                        out.append(chunk)
                    else:
                        on_stdout(chunk)
                else:
                    err += chunk
                    del err[:-_STDERR_TAIL]
    try:
        proc.wait(max(deadline - time.monotonic(), 0.01))
    except subprocess.TimeoutExpired:
        raise TimedOut(timeout) from None
    proc.stdout.close()
    proc.stderr.close()
    return b"".join(out), bytes(err)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):  # it ended on its own meanwhile
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    for pipe in (proc.stdin, proc.stdout, proc.stderr):
        if pipe is not None:
            with contextlib.suppress(OSError):
                pipe.close()


def run_tool(argv: Sequence[str | Path], *, what: str, cwd: Path | None = None, max_stdout: int | None = None,
             cap_hint: str = "", max_rss: int | None = None, memory_hint: str = "", offline: bool = True,
             readable: Sequence[Path] | None = None, timeout: float = DEFAULT_TIMEOUT) -> str:
    """Run a renderer in the sandbox (:func:`sandboxed`) from ``cwd`` and return its stdout, fenced
    (:func:`handoff.fence.fenced`: no network when ``offline``, and given ``readable``, a filesystem of those
    paths, ``cwd`` and its scratch only); failing to
    start, timing out, writing more than ``max_stdout`` bytes (``cap_hint`` says how to raise it), holding
    more than ``max_rss`` bytes resident (``memory_hint`` likewise) or a non-zero exit is a
    ``RenderError`` naming ``what`` (with the end of its stderr)."""
    name = Path(str(argv[0])).name
    try:
        with sandboxed(offline=offline) as env, fenced(argv, cwd=cwd, readable=readable, offline=offline,
                                                        writable=scratch_of(env)) as wrapped:
            done = run(wrapped, timeout=timeout, cwd=cwd, env=env, max_stdout=max_stdout, max_rss=max_rss)
    except OSError as e:
        raise RenderError(f"{what}: cannot run {argv[0]}: {e}") from e
    except TimedOut as e:
        raise RenderError(f"{what}: {name} {e}") from e
    except OutputTooLarge as e:
        hint = f" ({cap_hint})" if cap_hint else ""
        raise RenderError(f"{what}: {name} output over the {e.cap}-byte render output cap{hint}") from e
    except MemoryTooLarge as e:
        hint = f" ({memory_hint})" if memory_hint else ""
        raise RenderError(f"{what}: {name} killed over the {e.cap // MIB} MiB child memory cap{hint}") from e
    if done.returncode != 0:
        stderr = done.stderr.decode(errors="replace").strip().splitlines()
        detail = " ".join(stderr[-3:]) or f"exit code {done.returncode}"
        raise RenderError(f"{what}: {detail}")
    try:
        text = done.stdout.decode("utf-8")
    except UnicodeDecodeError as e:
        raise RenderError(f"{what}: {name} wrote output that is not valid UTF-8 (byte {e.start})") from e
    return text.replace("\r\n", "\n").replace("\r", "\n")  # universal newlines, as text mode reads
