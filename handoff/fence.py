"""Linux namespaces around a child that runs repository content: the structural line behind the
pre-render checks (``handoff.render.inputs``, ``handoff.render.remote``).

An offline child gets a network namespace of its own, holding only a loopback interface that is down:
no spelling of a remote reference reaches anything, 127.0.0.1 included. A child given ``readable`` paths
also gets a mount namespace whose root holds only those paths, ``/usr`` (and the root-level links into
it) and, online, the resolver and CA files: a symlink or ``../`` path out of the render root finds
nothing, as do ``/proc`` (the environment), ``/etc`` and the ServiceAccount token under ``/var/run``. Both
come from an unprivileged user namespace (``unshare --user --map-root-user``), so no privilege is needed,
only a kernel and runtime that allow it.

``HANDOFF_CHILD_ISOLATION`` is the operator's switch: ``auto`` (the default) fences children where the
namespaces can be made and warns once where they cannot (a container under the RuntimeDefault seccomp
profile), ``require`` refuses to run a child unfenced, ``off`` never fences.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

from handoff.errors import HandoffError

ISOLATION_ENV = "HANDOFF_CHILD_ISOLATION"
MODES = ("auto", "require", "off")
# What a child needs from the system besides its inputs: libraries and interpreters live under /usr (and
# the root-level entries merged-/usr systems link into it); online it also resolves names and checks TLS.
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
ONLINE_FILES = ("/etc/resolv.conf", "/etc/hosts", "/etc/nsswitch.conf", "/etc/ssl", "/etc/ca-certificates",
                "/etc/pki")
# Runs in the new user and mount namespaces, before the child, over the skeleton ``_skeleton`` made: each
# path bound at its own absolute path (so arguments and in-repo absolute links keep working), read-only but
# for the child's scratch ("W"), a readable directory's top-level ``.git`` covered by an empty one ("H": CI's
# checkout keeps its token in ``.git/config``), then the child with that root and its working directory.
_MOUNT_VIEW = r"""
set -e
view=$1; wd=$2; shift 2
while [ "$1" != "--" ]; do
  if [ "$1" = H ]; then
    if [ -d "$view$2" ]; then mount --bind "$view/.handoff-empty" "$view$2"
    else mount --bind "$view/.handoff-empty-file" "$view$2"; fi
  else
    mount --rbind "$2" "$view$2"
  fi
  [ "$1" = W ] || mount -o remount,bind,ro "$view$2"
  shift 2
done
shift
exec unshare --root="$view" --wd="$wd" -- "$@"
"""

log = logging.getLogger(__name__)
_probe_lock = threading.Lock()
_probed: dict[str, str] = {}  # "why" -> "" when namespaces work here, else the reason they do not


class IsolationUnavailable(HandoffError):
    """``HANDOFF_CHILD_ISOLATION=require`` and the namespaces cannot be made here."""


def mode() -> str:
    value = os.environ.get(ISOLATION_ENV, "auto").strip().lower() or "auto"
    if value not in MODES:
        raise IsolationUnavailable(f"{ISOLATION_ENV}={value!r}: expected one of {', '.join(MODES)}")
    return value


def unavailable_reason() -> str:
    """Why children cannot be fenced on this machine ("" when they can); probed once per process."""
    with _probe_lock:
        if "why" not in _probed:
            _probed["why"] = _probe()
        return _probed["why"]


def _probe() -> str:
    unshare = shutil.which("unshare")
    if unshare is None:
        return "no unshare binary (util-linux) on PATH"
    with tempfile.TemporaryDirectory(prefix="handoff-fence-probe-") as scratch:
        argv = _wrapped(unshare, ["true"], view=Path(scratch), cwd=Path("/"), readable=(), offline=True)
        try:
            done = subprocess.run(argv, capture_output=True, timeout=30, check=False)
        except (OSError, subprocess.TimeoutExpired) as e:
            return str(e)
    if done.returncode != 0:
        return done.stderr.decode(errors="replace").strip().splitlines()[-1:][0] if done.stderr else \
            f"exit code {done.returncode}"
    return ""


@contextlib.contextmanager
def fenced(argv: Sequence[str | Path], *, cwd: Path | None, readable: Sequence[Path] | None,
           offline: bool, writable: Path | None = None) -> Iterator[list[str]]:
    """``argv`` wrapped to run in its own namespaces: a network namespace when ``offline``, a mount view of
    ``readable`` (``cwd`` is added to it) read-only and ``writable`` (its scratch) when given. Unwrapped
    when neither applies or the mode is ``off``, or in ``auto`` mode where namespaces cannot be made."""
    plain = [str(a) for a in argv]
    wanted = (offline or readable is not None) and shutil.which(plain[0]) is not None  # else: start's error
    chosen = mode()
    why = unavailable_reason() if wanted and chosen != "off" else ""
    if not wanted or chosen == "off" or (why and chosen == "auto"):
        if why and not _probed.get("warned"):
            _probed["warned"] = "1"
            log.warning("renderer children run without namespace isolation: %s", why)
        yield plain
        return
    if why:
        raise IsolationUnavailable(f"{ISOLATION_ENV}=require, but children cannot be fenced here: {why}")
    unshare = shutil.which("unshare")
    assert unshare is not None  # the probe found it
    if readable is None:
        yield [unshare, "--user", "--map-root-user", "--net", "--", *plain]
        return
    # the binary by its real path, bound there (.tools/bin holds links into a cache outside the view)
    binary = os.path.realpath(shutil.which(plain[0]) or plain[0])
    paths = [*readable, *([cwd] if cwd is not None else []), Path(binary)]
    with tempfile.TemporaryDirectory(prefix="handoff-view-") as view:
        yield _wrapped(unshare, [binary, *plain[1:]], view=Path(view), cwd=cwd or Path("/"), readable=paths,
                       offline=offline, writable=writable)


def _wrapped(unshare: str, argv: list[str], *, view: Path, cwd: Path, readable: Sequence[Path],
             offline: bool, writable: Path | None = None) -> list[str]:
    """The command that mounts ``view`` and runs ``argv`` in it, once its skeleton is made here (directories,
    empty files to bind over, the system's root-level links: no process per entry, which would cost ~3 ms
    each)."""
    binds = [*(p for p in _system_paths(offline) if not p.is_symlink()), *_outermost(readable)]
    for path in _system_paths(offline):
        if path.is_symlink():
            _in_view(view, path).symlink_to(path.readlink())
    entries: list[str] = []
    for path in binds:
        _skeleton(_in_view(view, path), directory=path.is_dir())
        entries += ["R", str(path)]
    hidden = [path / ".git" for path in binds if path.is_dir() and not path.is_relative_to("/usr")
              and (path / ".git").exists() and not (path / ".git").is_symlink()]
    if hidden:
        _skeleton(view / ".handoff-empty", directory=True)
        _skeleton(view / ".handoff-empty-file", directory=False)
        for path in hidden:
            entries += ["H", str(path)]
    if writable is not None:
        _skeleton(_in_view(view, writable.absolute()), directory=True)
        entries += ["W", str(writable.absolute())]
    namespaces = ["--user", "--map-root-user", "--mount", *(["--net"] if offline else [])]
    return [unshare, *namespaces, "--", "sh", "-c", _MOUNT_VIEW, "handoff-view", str(view),
            str(cwd.absolute()), *entries, "--", *argv]


def _in_view(view: Path, path: Path) -> Path:
    return view / path.relative_to(path.anchor)


def _skeleton(target: Path, *, directory: bool) -> None:
    if directory:
        target.mkdir(parents=True, exist_ok=True)
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.touch()


def _system_paths(offline: bool) -> list[Path]:
    names = SYSTEM_DIRS if offline else (*SYSTEM_DIRS, *ONLINE_FILES)
    return [Path(name) for name in names if os.path.lexists(name)]


def _outermost(paths: Sequence[Path]) -> list[Path]:
    """The absolute ``paths`` that exist, without those inside another (binding it covers them). Not
    resolved: a path is bound where the child is told to find it."""
    resolved = sorted({p.absolute() for p in paths if p.exists()}, key=lambda p: len(p.parts))
    kept: list[Path] = []
    for path in resolved:
        if any(path.is_relative_to(k) for k in (*map(Path, SYSTEM_DIRS), *kept)):  # the system view holds it
            continue
        kept.append(path)
    return kept
