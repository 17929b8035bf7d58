"""``handoff wait``: wait until an environment reports healthy (or failed) for a config commit, or for
the commits that carry an image, reading the commit statuses the reconciler posts (no cluster
credentials in CI). The config repo's commit for an image: the newest run of commits on the base
branch whose environment declares it, read with the code promote uses (``edit.bump.current_image``)."""

from __future__ import annotations

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
from handoff.errors import ImageNotDeclared, NoTargetInEnv, UsageError
from handoff.git.repo import GitAuth, Repo, validate_ref
from handoff.imageref import ImageRef

EXIT_TIMED_OUT = 124  # as timeout(1): 0 healthy, 1 degraded or failed, 124 still not done at the deadline
DEFAULT_DEPTH = 50

Outcome = Literal["healthy", "degraded", "failed", "timed-out"]


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
    def status_context(self) -> str:
        return self.context.replace("{env}", self.env)


@dataclass(frozen=True)
class Progress:
    """What ``handoff wait`` knows now: the commit it reads (None while the image has not reached the
    base branch) and that commit's status, if any yet."""

    elapsed: float
    commit: str | None
    status: CommitStatus | None


@dataclass(frozen=True)
class WaitResult:
    outcome: Outcome
    commit: str | None
    status: CommitStatus | None
    message: str

    @property
    def exit_code(self) -> int:
        return {"healthy": 0, "timed-out": EXIT_TIMED_OUT}.get(self.outcome, 1)


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
        raise UsageError(f"the config repo has no commit {commit} (looked in the newest {depth} commits of "
                         f"{base}, and for the full SHA)", key="--commit")
    return found.stdout.decode().strip()


def commits_declaring(repo: Repo, commits: Sequence[str], env: str, image: ImageRef,
                      app: str | None) -> list[str]:
    """The newest run of ``commits`` (newest first) in which ``env`` declares ``image``: the reconciler
    may have applied any of them (it skips commits that landed between two passes)."""
    run: list[str] = []
    for commit in commits:
        repo.checkout(commit)
        images = declared_images(repo.path, env, [app] if app else None)
        if any(declares(i, image) for i in images.values()):
            run.append(commit)
        elif run:
            break
    return run


def _quiet(progress: Progress) -> None:
    return None


def wait(opts: WaitOptions, backend: StatusBackend, *, on_progress: Callable[[Progress], None] = _quiet,
         clock: Callable[[], float] = time.monotonic,
         sleep: Callable[[float], None] = time.sleep) -> WaitResult:
    if (opts.commit is None) == (opts.image is None):
        raise UsageError("give --commit or --image (one of them)")
    started = clock()
    context = opts.status_context
    with config_clone(opts.config_repo, opts.git_auth, opts.workdir) as repo:
        base = opts.base or repo.default_branch()
        candidates = [resolve_commit(repo, opts.commit, base, opts.depth)] if opts.commit else []
        while True:
            if not candidates and opts.image is not None:
                candidates = commits_declaring(repo, recent_commits(repo, base, opts.depth), opts.env,
                                               opts.image, opts.app)
            current: CommitStatus | None = None
            commit = candidates[0] if candidates else None
            for candidate in candidates:
                current = backend.read(candidate).get(context)
                if current is not None:
                    commit = candidate
                    break
            elapsed = clock() - started
            if current is not None and current.state != "applying":
                return WaitResult(current.state, commit, current, f"{opts.env} is {current.state} at "
                                  f"{(commit or '')[:12]}: {current.description}")
            on_progress(Progress(elapsed, commit, current))
            if elapsed >= opts.timeout:
                if commit:
                    what = f"{commit[:12]} {current.state if current else 'has no status yet'}"
                else:
                    what = f"no commit of {base} declares {opts.image} in {opts.env}"
                return WaitResult("timed-out", commit, current,
                                  f"timed out after {opts.timeout:.0f}s waiting for {opts.env}: {what}")
            sleep(min(opts.interval, max(opts.timeout - elapsed, 0.0)))
