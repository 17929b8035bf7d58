"""A working clone of the config repository for propose and promote, run through ``handoff.git.command``
(one environment, one timeout, retries for the network; credentials only in the environment).

Ref names are validated with git's ``check-ref-format`` rules before they reach git, and options can
never be smuggled in as refs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from handoff.changes import FileChange, PushResult
from handoff.errors import GitError, UsageError
from handoff.git.command import DEFAULT_TIMEOUT, NETWORK_RETRY, Git, GitAuth, git_environment
from handoff.redact import redact
from handoff.retry import RetryPolicy
from handoff.toolrun import Finished

__all__ = ["DEFAULT_IDENTITY", "FileChange", "GitAuth", "Identity", "PushResult", "Repo", "remote_url",
           "validate_ref"]

_FORBIDDEN_REF_CHARS = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]")
_IDENTITY = re.compile(r"^\s*(?P<name>[^<>]+?)\s*<(?P<email>[^<>\s]+)>\s*$")


def validate_ref(name: str, *, what: str = "branch") -> str:
    """Return ``name`` if it is a valid branch name per ``git check-ref-format --branch``; else raise."""
    problem = _ref_problem(name)
    if problem:
        raise UsageError(f"invalid {what} name {name!r}: {problem}")
    return name


def _ref_problem(name: str) -> str | None:
    if not name:
        return "empty"
    if name.startswith("-"):
        return "must not start with '-'"
    if _FORBIDDEN_REF_CHARS.search(name):
        return "contains a space, control character or one of ~^:?*[\\"
    if ".." in name or "@{" in name or "//" in name:
        return "contains '..', '@{' or '//'"
    if name == "@" or name.endswith(("/", ".", ".lock")) or name.startswith("/"):
        return "must not be '@', start with '/' or end with '/', '.' or '.lock'"
    if any(part.startswith(".") or part.endswith(".lock") for part in name.split("/")):
        return "a path component starts with '.' or ends with '.lock'"
    return None


@dataclass(frozen=True)
class Identity:
    name: str
    email: str

    @classmethod
    def parse(cls, text: str) -> Identity:
        match = _IDENTITY.match(text)
        if not match:
            raise UsageError(f"invalid author {text!r}: expected 'Name <email>'")
        return cls(match["name"], match["email"])


DEFAULT_IDENTITY = Identity("handoff", "handoff@localhost")


class Repo:
    """A working clone of the config repository with ``origin`` pointing at the remote."""

    def __init__(self, path: Path, *, auth: GitAuth | None = None, timeout: float = DEFAULT_TIMEOUT,
                 network_retry: RetryPolicy = NETWORK_RETRY) -> None:
        self.path = path
        self.auth = auth
        self._git = Git(path, git_environment(auth=auth), timeout=timeout, network_retry=network_retry)

    # -- running git ------------------------------------------------------------------------------
    def run(self, *args: str, check: bool = True, input_bytes: bytes | None = None,
            extra_env: Mapping[str, str] | None = None) -> Finished:
        return self._git.run(*args, check=check, input_bytes=input_bytes, extra_env=extra_env)

    def out(self, *args: str) -> str:
        return self._git.out(*args)

    # -- setup ------------------------------------------------------------------------------------
    @classmethod
    def init(cls, path: Path, remote: str, *, auth: GitAuth | None = None, timeout: float = DEFAULT_TIMEOUT,
             network_retry: RetryPolicy = NETWORK_RETRY) -> Repo:
        """An empty repository at ``path`` whose ``origin`` is ``remote`` (nothing fetched yet)."""
        path.mkdir(parents=True, exist_ok=True)
        repo = cls(path, auth=auth, timeout=timeout, network_retry=network_retry)
        repo.run("init", "--quiet", "--initial-branch=handoff-work", ".")
        repo.run("remote", "add", "origin", "--", remote_url(remote))
        return repo

    def remote_heads(self, *branches: str) -> dict[str, str]:
        """The remote's commit for each of ``branches`` that exists (one round trip)."""
        for b in branches:
            validate_ref(b)
        refs = [f"refs/heads/{b}" for b in branches]
        text = self.out("ls-remote", "--heads", "origin", "--", *refs) if refs else ""
        heads: dict[str, str] = {}
        for line in text.splitlines():
            sha, _, ref = line.partition("\t")
            if ref.startswith("refs/heads/"):
                heads[ref.removeprefix("refs/heads/")] = sha
        return heads

    def default_branch(self) -> str:
        text = self.out("ls-remote", "--symref", "origin", "HEAD")
        for line in text.splitlines():
            if line.startswith("ref: refs/heads/"):
                return line.split("\t")[0].removeprefix("ref: refs/heads/")
        raise GitError("cannot tell the remote's default branch; pass --base")

    def fetch(self, *branches: str, depth: int = 1) -> dict[str, str]:
        """Fetch ``branches`` shallowly into ``refs/remotes/origin/*``; return their commits."""
        for b in branches:
            validate_ref(b)
        specs = [f"+refs/heads/{b}:refs/remotes/origin/{b}" for b in branches]
        self.run("fetch", "--quiet", "--no-tags", f"--depth={depth}", "origin", "--", *specs)
        return {b: self.out("rev-parse", "--verify", f"refs/remotes/origin/{b}^{{commit}}") for b in branches}

    def has_commit(self, sha: str) -> bool:
        return self.run("cat-file", "-e", f"{sha}^{{commit}}", check=False).returncode == 0

    def ensure(self, heads: Mapping[str, str]) -> dict[str, str]:
        """Like :meth:`fetch` for branches whose remote commits ``remote_heads`` just listed, but
        fetch only those not already here (a fetch is a round trip; a repeated one is the most
        common waste in a propose). Returns each branch's commit."""
        result = dict(heads)
        missing = [branch for branch, sha in heads.items() if not self.has_commit(sha)]
        if missing:
            result.update(self.fetch(*missing))
        return result

    def checkout(self, commit: str) -> None:
        """Make the work tree exactly ``commit`` (detached, clean)."""
        self.run("checkout", "--quiet", "--force", "--detach", commit)
        self.run("clean", "-qfdx")

    # -- reading ----------------------------------------------------------------------------------
    def tree_of(self, commit: str) -> str:
        return self.out("rev-parse", f"{commit}^{{tree}}")

    def parent_of(self, commit: str) -> str | None:
        proc = self.run("rev-parse", "--verify", "--quiet", f"{commit}^1", check=False)
        return proc.stdout.decode().strip() or None

    def same_content(self, a: str, b: str, *, excluding: Sequence[str] = ()) -> bool:
        pathspec = ["."] + [f":(exclude){p}" for p in excluding]
        proc = self.run("diff", "--quiet", a, b, "--", *pathspec, check=False)
        if proc.returncode > 1:
            raise GitError(redact(f"git diff failed: {proc.stderr.decode(errors='replace').strip()}"))
        return proc.returncode == 0

    def files_in(self, commit: str, directory: str) -> tuple[str, ...]:
        """Paths of the entries directly in ``directory`` at ``commit`` (none if it does not exist)."""
        listing = self.out("ls-tree", "--name-only", commit, "--", f"{directory.rstrip('/')}/")
        return tuple(line for line in listing.splitlines() if line)

    def show(self, commit: str, path: str) -> bytes | None:
        proc = self.run("show", f"{commit}:{path}", check=False)
        return proc.stdout if proc.returncode == 0 else None

    def diff(self, a: str, b: str) -> str:
        return self.run("diff", "--no-color", "--no-ext-diff", a, b).stdout.decode(errors="replace")

    def file_changes(self, a: str, b: str) -> tuple[FileChange, ...]:
        """What ``b`` changes relative to ``a``, file by file, with the new contents (for API commits)."""
        raw = self.run("diff", "--raw", "--no-renames", "--no-abbrev", "-z", a, b).stdout
        fields = raw.split(b"\0")
        changes = []
        for meta, path_bytes in zip(fields[0::2], fields[1::2], strict=False):
            old_mode, new_mode, _, new_sha, status = meta.decode().lstrip(":").split(" ")
            path = path_bytes.decode()
            if "160000" in (old_mode, new_mode):
                raise GitError(f"{path}: submodules cannot be committed through the API")
            if status == "D":
                changes.append(FileChange(path, old_mode, None))
            else:
                changes.append(FileChange(path, new_mode, self.run("cat-file", "blob", new_sha).stdout))
        return tuple(changes)

    def message(self, commit: str) -> str:
        return self.run("log", "-1", "--format=%B", commit).stdout.decode(errors="replace")

    def changed_files(self, a: str, b: str) -> tuple[str, ...]:
        text = self.out("diff", "--name-only", "--no-renames", a, b)
        return tuple(line for line in text.splitlines() if line)

    # -- writing ----------------------------------------------------------------------------------
    def commit(self, message: str, *, identity: Identity = DEFAULT_IDENTITY, sign: str | None = None,
               allow_empty: bool = False) -> str:
        """Commit every change in the work tree; return the new commit."""
        self.run("add", "--all", "--", ".")
        args = ["-c", f"user.name={identity.name}", "-c", f"user.email={identity.email}"]
        if sign in ("gpg", "ssh"):
            for key, value in self._git.job_signing_config():
                args += ["-c", f"{key}={value}"]
        if sign == "gpg":
            args += ["-c", "gpg.format=openpgp"]
        elif sign == "ssh":
            args += ["-c", "gpg.format=ssh"]
        commit_args = ["commit", "--quiet", "--no-verify", "--file=-"]
        if sign in ("gpg", "ssh"):
            commit_args.append("--gpg-sign")
        else:
            commit_args.append("--no-gpg-sign")
        if allow_empty:
            commit_args.append("--allow-empty")
        self.run(*args, *commit_args, input_bytes=message.encode())
        return self.out("rev-parse", "HEAD")

    def push(self, commit: str, branch: str, *, lease: str | None = None, force: bool = False) -> PushResult:
        """Push ``commit`` to ``branch``.

        ``lease`` (with ``force``) is the commit the remote branch must still have, or ``""`` for
        "must not exist": a rolling branch is replaced only if nobody moved it since we looked.
        Without ``force`` the push must fast-forward. A rejection is a result, not an error.
        """
        validate_ref(branch)
        args = ["push", "--porcelain", "--no-verify"]
        if force:
            args.append(f"--force-with-lease=refs/heads/{branch}:{lease or ''}")
        args += ["origin", "--", f"{commit}:refs/heads/{branch}"]
        proc = self.run(*args, check=False)
        out = proc.stdout.decode(errors="replace")
        for line in out.splitlines():
            if line.startswith("!"):
                return PushResult(False, redact(line.split("\t")[-1]))
        if proc.returncode != 0:
            err = proc.stderr.decode(errors="replace").strip().splitlines()
            detail = err[-1] if err else f"exit code {proc.returncode}"
            if "rejected" in detail or "stale info" in detail or "fetch first" in detail:
                return PushResult(False, redact(detail))
            raise GitError(redact(f"git push to {branch} failed: {detail}"))
        return PushResult(True)


def remote_url(remote: str) -> str:
    """Reject remotes that carry credentials or could be read as an option."""
    if remote.startswith("-"):
        raise UsageError(f"invalid config repo {remote!r}: must not start with '-'")
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://[^/]*@", remote) and not remote.startswith("ssh://"):
        raise UsageError("the config repo URL must not contain credentials; use --token-env or --token-file")
    if remote.startswith("ext::"):
        raise UsageError("the ext:: transport is not allowed")
    if "://" not in remote and not remote.startswith("git@"):
        path = Path(remote)
        if path.exists():
            return str(path.resolve())
    return remote
