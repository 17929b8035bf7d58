"""``handoff wait``: wait until an environment reports healthy (or failed) for a config commit, or for
the commits that carry an image, reading the commit statuses the reconciler posts (no cluster
credentials in CI). The config repo's commit for an image: the newest run of commits on the base
branch whose environment declares it, read with the code promote uses (``edit.bump.current_image``),
unless a newer commit already carries the environment's status (the image was superseded)."""

from __future__ import annotations

import logging
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from handoff.commitstatus import CommitStatus, StatusBackend
from handoff.config import load_config
from handoff.edit.bump import current_image
from handoff.errors import (
    ForgeAuthError,
    ForgeError,
    ForgeNotFound,
    GitError,
    HandoffError,
    ImageNotDeclared,
    NoTargetInEnv,
    UsageError,
)
from handoff.git.repo import GitAuth, Repo, validate_ref
from handoff.imageref import ImageRef
from handoff.retry import bounded_by
from handoff.workflows.status_context import EnvHistory, StatusContext

EXIT_TIMED_OUT = 124  # as timeout(1): 0 healthy, 1 degraded or failed, 124 still not done at the deadline
# not 1: a pipeline must not read "the forge could not be read" as "the deployment failed" and roll back
EXIT_UNREADABLE = 5
DEFAULT_DEPTH = 50

Outcome = Literal["healthy", "degraded", "failed", "superseded", "timed-out", "unreadable"]
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WaitOptions:
    config_repo: str
    env: str
    commit: str | None = None
    image: ImageRef | None = None
    app: str | None = None
    context: str = "handoff/{env}"
    timeout: float = 600.0
    interval: float = 5.0
    base: str | None = None
    git_auth: GitAuth | None = None
    depth: int = DEFAULT_DEPTH
    workdir: Path | None = None

    @property
    def status_context(self) -> StatusContext:
        return StatusContext.of(self.context, self.env)


@dataclass(frozen=True)
class Progress:
    """What ``handoff wait`` knows now: the commit it reads (None while the image has not reached the
    base branch) and that commit's status, if any yet."""

    elapsed: float
    commit: str | None
    status: CommitStatus | None
    problem: str = ""  # why this poll could not read the statuses ("" when it could)


@dataclass(frozen=True)
class WaitResult:
    outcome: Outcome
    commit: str | None
    status: CommitStatus | None
    message: str

    @property
    def exit_code(self) -> int:
        return {"healthy": 0, "timed-out": EXIT_TIMED_OUT, "unreadable": EXIT_UNREADABLE}.get(self.outcome, 1)


def declares(declared: ImageRef, wanted: ImageRef) -> bool:
    """``declared`` (what Git holds) is ``wanted``: the same repository and the digest ``wanted`` names
    (tags compared only when both give one), else the same tag."""
    if not declared.same_repository(wanted):
        return False
    if wanted.digest:
        return declared.digest == wanted.digest and (not (declared.tag and wanted.tag)
                                                     or declared.tag == wanted.tag)
    return declared.tag == wanted.tag


def declared_images(root: Path, env: str, apps: Sequence[str] | None) -> dict[str, ImageRef]:
    """The image each app (all of ``.handoff.yaml``'s, or ``apps``) declares in ``env`` at ``root``: an
    app with no target in ``env``, or none declaring an image yet, is left out; any other error (a
    malformed image line) is raised, naming its file and line, since leaving the app out would read as
    "no image" and hide a pending promotion or cut the run of commits carrying an image."""
    config = load_config(root)
    names = list(apps) if apps else sorted(config.apps) if config else []
    found: dict[str, ImageRef] = {}
    for app in names:
        try:
            found[app] = current_image(root, app=app, env=env)
        except (NoTargetInEnv, ImageNotDeclared):
            continue
    return found


@contextmanager
def config_clone(config_repo: str, auth: GitAuth | None, workdir: Path | None) -> Iterator[Repo]:
    parent = Path(tempfile.mkdtemp(prefix="handoff-wait-", dir=workdir))
    try:
        yield Repo.init(parent / "repo", config_repo, auth=auth)
    finally:
        shutil.rmtree(parent, ignore_errors=True)


def recent_commits(repo: Repo, base: str, depth: int) -> list[str]:
    """The newest ``depth`` commits of ``base``, newest first."""
    tip = repo.fetch(validate_ref(base), depth=depth)[base]
    return repo.out("log", "--format=%H", f"-n{depth}", tip).split()


_SHA = re.compile(r"[0-9a-fA-F]{4,40}")


def resolve_commit(repo: Repo, commit: str, base: str, depth: int) -> str:
    """``commit`` (a SHA, maybe abbreviated) as the full SHA of a commit of the config repo: looked up
    in the newest ``depth`` commits of ``base``, else (a full SHA) fetched by itself. Notes and the
    forges' APIs key statuses by the full SHA, and an unknown one could only wait until the timeout."""
    if not _SHA.fullmatch(commit):
        raise UsageError(f"{commit!r} is not a commit SHA (4 to 40 hex digits)", key="--commit")
    recent_commits(repo, base, depth)
    spec = f"{commit}^{{commit}}"
    found = repo.run("rev-parse", "--verify", "--quiet", spec, check=False)
    if found.returncode != 0 and len(commit) == 40:
        repo.run("fetch", "--quiet", "--no-tags", "--depth=1", "origin", commit, check=False)
        found = repo.run("rev-parse", "--verify", "--quiet", spec, check=False)
    if found.returncode != 0:
        candidates = commits_with_prefix(repo, commit)
        if len(candidates) > 1:
            named = ", ".join(c[:12] for c in candidates)
            raise UsageError(f"{commit} is ambiguous: it starts {named}; give more digits", key="--commit")
        raise UsageError(f"the config repo has no commit {commit} (looked in the newest {depth} commits of "
                         f"{base}, and for the full SHA)", key="--commit")
    return found.stdout.decode().strip()


def commits_with_prefix(repo: Repo, prefix: str) -> list[str]:
    """The fetched commits whose SHA starts with ``prefix`` (other objects left out), sorted."""
    listed = repo.run("rev-parse", f"--disambiguate={prefix.lower()}", check=False)
    objects = listed.stdout.decode().split() if listed.returncode == 0 else []
    if not objects:
        return []
    typed = repo.run("cat-file", "--batch-check=%(objecttype) %(objectname)",
                     input_bytes="".join(f"{o}\n" for o in objects).encode())
    lines = (line.partition(" ") for line in typed.stdout.decode().splitlines())
    return sorted(name for kind, _, name in lines if kind == "commit")


def commits_declaring(repo: Repo, commits: Sequence[str], env: str, image: ImageRef,
                      app: str | None) -> list[str]:
    """The newest run of ``commits`` (newest first) in which ``env`` declares ``image``: the reconciler
    may have applied any of them (it skips commits that landed between two passes). What the first
    commit (the tip) declares must read; an older commit that does not (a malformed image line, fixed
    since) declares no image, since history cannot be fixed and would block every later wait."""
    run: list[str] = []
    for index, commit in enumerate(commits):
        repo.checkout(commit)
        try:
            images = declared_images(repo.path, env, [app] if app else None)
        except HandoffError:
            if index == 0:
                raise
            images = {}
        if any(declares(i, image) for i in images.values()):
            run.append(commit)
        elif run:
            break
    return run


# a forge or git answer no retry can change: bad credentials, no access, no such repository
_PERMANENT_GIT = re.compile(r"Authentication failed|returned error: 40[134]|could not read Username|"
                            r"repository '[^']*' not found|does not appear to be a git repository",
                            re.IGNORECASE)


def permanent(error: ForgeError | GitError) -> bool:
    """A read error that waiting cannot cure (401/403/404); anything else (unreachable, 5xx, a dropped
    connection) is "not known yet"."""
    if isinstance(error, ForgeError):
        return isinstance(error, ForgeAuthError | ForgeNotFound)
    return bool(_PERMANENT_GIT.search(error.message))


@dataclass(frozen=True)
class Sighting:
    """One read of the statuses: the commit read (None while the image has not reached the base branch),
    its status, and whether that commit superseded the image (a newer commit, declaring something else
    in the environment, carries the environment's status)."""

    commit: str | None
    status: CommitStatus | None
    superseded: bool = False


class _Watch:
    """What ``wait`` reads on each poll. The base branch, the resolved ``--commit`` and the image's run of
    commits are looked up once (the run again whenever the branch moves)."""

    def __init__(self, repo: Repo, opts: WaitOptions, backend: StatusBackend) -> None:
        self.repo, self.opts, self.backend = repo, opts, backend
        self.context = opts.status_context
        self.base = opts.base or ""
        self.commit: str | None = None
        self.history = EnvHistory(backend.read, self.context, [])  # of --commit, or of the run's branch tip
        self._runs: dict[str, tuple[list[str], list[str]]] = {}  # tip -> (newer commits, the run)

    def look(self) -> Sighting:
        if not self.base:
            self.base = self.repo.default_branch()
        if self.opts.commit is not None:
            if self.commit is None:
                self.commit = resolve_commit(self.repo, self.opts.commit, self.base, self.opts.depth)
                commits = recent_commits(self.repo, self.base, self.opts.depth)
                self.history = EnvHistory(self.backend.read, self.context, commits)
            return Sighting(self.commit, self.history.status_at(self.commit, self.backend.read(self.commit)))
        if self.opts.image is None:
            raise UsageError("give --commit or --image (one of them)")
        newer, run = self._run(self.opts.image)
        for commit in newer:
            found = self.context.pick(self.backend.read(commit))
            if found is not None:
                return Sighting(commit, found, superseded=True)
        for commit in run:
            found = self.history.status_at(commit, self.backend.read(commit))
            if found is not None:
                return Sighting(commit, found)
        return Sighting(run[0] if run else None, None)

    def _run(self, image: ImageRef) -> tuple[list[str], list[str]]:
        commits = recent_commits(self.repo, self.base, self.opts.depth)
        if commits[0] not in self._runs:
            run = commits_declaring(self.repo, commits, self.opts.env, image, self.opts.app)
            self._runs = {commits[0]: (commits[:commits.index(run[0])] if run else [], run)}
            self.history = EnvHistory(self.backend.read, self.context, commits)
        return self._runs[commits[0]]


def _quiet(progress: Progress) -> None:
    return None


def wait(opts: WaitOptions, backend: StatusBackend, *, on_progress: Callable[[Progress], None] = _quiet,
         clock: Callable[[], float] = time.monotonic,
         sleep: Callable[[float], None] = time.sleep) -> WaitResult:
    """Poll until ``opts.env`` reports a final state for the commit (or the image), the deadline passes,
    or the statuses cannot be read for good. A read error that may pass (the forge or git unreachable,
    a 5xx, a rate limit) is "not known yet": logged, and the next poll tries again. The backends'
    retries are bounded by the deadline: one asked to wait past it gives up, and wait answers on time."""
    if (opts.commit is None) == (opts.image is None):
        raise UsageError("give --commit or --image (one of them)")
    started = clock()
    with config_clone(opts.config_repo, opts.git_auth, opts.workdir) as repo:
        watch = _Watch(repo, opts, backend)
        seen, problem = Sighting(None, None), ""
        read_once = False
        while True:
            try:
                with bounded_by(lambda: opts.timeout - (clock() - started)):
                    seen, problem, read_once = watch.look(), "", True
            except (ForgeError, GitError) as e:
                if permanent(e):
                    return WaitResult("unreadable", seen.commit or watch.commit, seen.status,
                                      f"cannot read the statuses of {opts.env}: {e}")
                problem = str(e)
                log.warning("statuses of %s not known yet: %s", opts.env, problem)
            elapsed = clock() - started
            status, at = seen.status, (seen.commit or "")[:12]
            if status is not None and seen.superseded:
                return WaitResult("superseded", seen.commit, status,
                                  f"{opts.env} no longer declares {opts.image}: it was superseded by {at}, "
                                  f"which is {status.state}: {status.description}")
            if status is not None and status.state != "applying":
                return WaitResult(status.state, seen.commit, status,
                                  f"{opts.env} is {status.state} at {at}: {status.description}")
            on_progress(Progress(elapsed, seen.commit, seen.status, problem))
            if elapsed >= opts.timeout:
                return _deadline(opts, watch.base, seen, problem if not read_once else "")
            sleep(min(opts.interval, max(opts.timeout - elapsed, 0.0)))


def _deadline(opts: WaitOptions, base: str, seen: Sighting, never_read: str) -> WaitResult:
    if never_read:
        return WaitResult("unreadable", None, None, f"could not read the statuses of {opts.env} in "
                          f"{opts.timeout:.0f}s: {never_read}")
    if seen.commit:
        what = f"{seen.commit[:12]} {seen.status.state if seen.status else 'has no status yet'}"
    else:
        what = f"no commit of {base} declares {opts.image} in {opts.env}"
    return WaitResult("timed-out", seen.commit, seen.status,
                      f"timed out after {opts.timeout:.0f}s waiting for {opts.env}: {what}")
