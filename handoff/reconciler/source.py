"""Pull a source: shallow fetch of one branch, tag or commit, revision resolution, optional
commit-signature verification. Credentials travel in the environment, never in argv or URLs."""

from __future__ import annotations

import hashlib
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from handoff.errors import GitError, RevisionRefused
from handoff.git.command import DEFAULT_TIMEOUT, Git, GitAuth, git_environment
from handoff.git.treesize import TreeBudget, check_tree
from handoff.reconciler.config import Credentials, Source
from handoff.redact import redact
from handoff.retry import RetryPolicy
from handoff.toolrun import Finished

_SHA = re.compile(r"^[0-9a-f]{40}$")
# One try per pass: the loop retries whole passes under the same policy's backoff (``loop._pass_backoff``)
# and reports each failure in the status; retrying inside a pass too would multiply the two.
ONE_TRY = RetryPolicy(attempts=1)
_KEY_CONFIG = "handoff.fetchkey"  # in a clone's .git/config: the fetch key its objects were fetched under


@dataclass(frozen=True)
class Checkout:
    revision: str  # the commit sha
    root: Path  # the working tree at that commit


def git_env(source: Source) -> dict[str, str]:
    """The wrapper's environment for this source: an HTTPS token as the extra header, an SSH key
    through ``GIT_SSH_COMMAND``."""
    creds = source.credentials
    auth = None
    if creds.token_file:
        token = Path(creds.token_file).read_text(encoding="utf-8").strip()
        auth = GitAuth(creds.username, token)
    return git_environment(auth=auth, ssh_command=ssh_command(source), config=[("protocol.version", "2")])


def ssh_command(source: Source) -> str | None:
    """``GIT_SSH_COMMAND`` for the source's SSH key, if it names one (read by ssh, not here)."""
    creds = source.credentials
    if not creds.ssh_key_file:
        return None
    ssh = ["ssh", "-i", creds.ssh_key_file, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes"]
    if creds.known_hosts_file:
        ssh += ["-o", f"UserKnownHostsFile={creds.known_hosts_file}", "-o", "StrictHostKeyChecking=yes"]
    return " ".join(ssh)


class GitSource:
    """One source's local shallow clone under ``workdir``."""

    def __init__(self, source: Source, workdir: Path, *, timeout: float = DEFAULT_TIMEOUT,
                 network_retry: RetryPolicy = ONE_TRY, context: str = "",
                 directory: Path | None = None, tree_budget: TreeBudget | None = None) -> None:
        self.source = source
        self.key_id = fetch_key_id(fetch_key(source))
        self.dir = directory or workdir / source.name
        self.tree_budget = tree_budget or TreeBudget.from_env()
        self._git = Git(self.dir, git_env(source), timeout=timeout, network_retry=network_retry,
                        context=context or f" for source {source.name}",
                        max_rss=source.render_limits.max_child_memory)
        self.held_revision: str | None = None  # set during a round (``FetchPool.round``): ls-remote once
        self.holding = False

    def reread_credentials(self) -> None:
        """Read the credential files again (a rotated token), keeping the clone."""
        self._git = Git(self.dir, git_env(self.source), timeout=self._git.timeout,
                        network_retry=self._git.network_retry, context=self._git.context,
                        max_rss=self._git.max_rss)

    def _run(self, *args: str, check: bool = True, extra_env: dict[str, str] | None = None) -> Finished:
        return self._git.run(*args, check=check, extra_env=extra_env)

    def _ensure_repo(self) -> None:
        if (self.dir / ".git").is_dir():
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        self._run("init", "-q")
        self._run("config", _KEY_CONFIG, self.key_id)
        self._run("remote", "add", "origin", self.source.url)

    def fetched_under_its_key(self) -> bool:
        """No clone yet, or one whose ``origin`` is this source's URL and whose objects were fetched under
        this source's fetch key (a workdir kept across restarts keeps its objects; one another spec left
        behind, for another URL or with other credentials, is not reused: its objects are what those
        credentials could read, and ``checkout`` would find a pinned commit there without asking the
        server)."""
        if not (self.dir / ".git").is_dir():
            return True
        found = self._run("remote", "get-url", "origin", check=False)
        key = self._run("config", "--get", _KEY_CONFIG, check=False)
        return (found.returncode == 0 and found.stdout.decode(errors="replace").strip() == self.source.url
                and key.returncode == 0 and key.stdout.decode(errors="replace").strip() == self.key_id)

    def remote_revision(self) -> str:
        """The commit the configured ref points to now (``ls-remote``, no objects transferred)."""
        rev = self.source.revision
        if _SHA.match(rev):
            return rev
        if self.holding and self.held_revision is not None:
            return self.held_revision
        found = self._ls_remote(rev)
        if self.holding:
            self.held_revision = found
        return found

    def _ls_remote(self, rev: str) -> str:
        self._ensure_repo()
        out = self._run("ls-remote", "origin", rev, f"refs/heads/{rev}", f"refs/tags/{rev}",
                        f"refs/tags/{rev}^{{}}").stdout.decode(errors="replace")
        refs: dict[str, str] = {}
        for line in out.splitlines():
            sha, _, name = line.partition("\t")
            refs[name] = sha
        for name in (f"refs/tags/{rev}^{{}}", f"refs/heads/{rev}", f"refs/tags/{rev}", rev):
            if name in refs:
                return refs[name]
        raise GitError(f"revision {rev!r} not found in {redact(self.source.url)}")

    def checkout(self, sha: str) -> Checkout:
        """Shallow-fetch ``sha`` (depth 1) and check it out if its tree fits ``tree_budget``; verify its
        signature if configured."""
        self._ensure_repo()
        # The whole tree, not just the commit: a fetch cut off mid-pack used to leave the commit object
        # without its blobs, and every later pass skipped the fetch and failed to check out, forever.
        have = self._run("rev-list", "--quiet", "--objects", "--no-walk", sha, check=False).returncode == 0
        if not have:
            # unpackLimit=1: incoming objects always go through index-pack, so a truncated pack
            # stores nothing at all instead of some loose objects
            self._run("-c", "fetch.unpackLimit=1", "fetch", "-q", "--depth", "1", "--no-tags", "origin", sha)
        self.verify(sha)
        check_tree(self._git, sha, self.tree_budget)  # before any blob is inflated or written
        self._run("checkout", "-q", "--force", "--detach", sha)
        self._run("clean", "-q", "-fdx")
        return Checkout(revision=sha, root=self.dir)

    def verify(self, sha: str) -> None:
        v = self.source.verify
        if v.mode == "none":
            return
        args = ["verify-commit", sha]
        env_extra: dict[str, str] = {}
        if v.mode == "ssh":
            if not v.allowed_signers:
                raise GitError(f"ssh verification{self._git.context} needs allowedSigners")
            args = ["-c", f"gpg.ssh.allowedSignersFile={v.allowed_signers}", *args]
        elif v.keyring:
            env_extra["GNUPGHOME"] = v.keyring
        proc = self._run(*args, check=False, extra_env=env_extra)
        if proc.returncode != 0:
            why = " ".join(proc.stderr.decode(errors="replace").split())[:200] or "no signature"
            raise RevisionRefused(f"revision {sha[:12]}{self._git.context} is unsigned or not signed "
                           f"by a trusted key ({why}); refusing to apply it")


def credential_identity(creds: Credentials) -> tuple[object, ...]:
    """Whom a fetch reads as: the credential files (for a Source object, its Secret's namespace and name)
    and a digest of what they hold now, or ``none``. A Secret rewritten with other credentials is another
    identity, as is a Source that stops naming one."""
    files = [f for f in (creds.token_file, creds.ssh_key_file, creds.known_hosts_file) if f]
    if not files:
        return ("none",)
    digest = hashlib.sha256()
    for name in files:
        path = Path(name)
        digest.update(path.read_bytes() if path.is_file() else b"\0missing")
        digest.update(b"\0")
    return (creds, digest.hexdigest())


def fetch_key(source: Source) -> tuple[object, ...]:
    """What makes two sources' fetches the same: the repository, the ref, the credentials it is read
    with and the verification it must pass. Sources differing in any of these never share a clone, nor
    reuse a clone directory one of the others filled (a source without credentials never sees what
    another's credentials fetched)."""
    return (source.url, source.revision, credential_identity(source.credentials), source.verify)


def fetch_key_id(key: tuple[object, ...]) -> str:
    """A fetch key as a short stable string, stored in the clone it filled."""
    return hashlib.sha256(repr(key).encode()).hexdigest()[:32]


class FetchPool:
    """One local clone per :func:`fetch_key`, shared by every source with that key: 500 sources of one
    repository and ref make one fetch, and each renders its own path from that one checkout (the loop
    runs passes one after another, so a checkout never changes under a render). Within a
    :meth:`round` (one pass over the due sources) each clone asks the remote for its ref once."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self._clones: dict[tuple[object, ...], GitSource] = {}
        self._users: dict[tuple[object, ...], set[str]] = {}
        self._in_round = False

    def get(self, source: Source, *, credentials_changed: bool = False) -> GitSource:
        """The clone ``source`` fetches through (created on first use, under ``workdir/NAME`` of the
        first source that needs it, as a lone source always had). ``credentials_changed``: the files its
        credentials name were rewritten, so the clone reads them again."""
        key = fetch_key(source)
        for other in [k for k, users in self._users.items() if source.name in users and k != key]:
            self._release(other, source.name)
        clone = self._clones.get(key)
        if clone is None:
            base = self.workdir / ".sources" if "/" in source.name else self.workdir
            taken = {c.dir for c in self._clones.values()}
            fresh, n = base / source.name, 0
            while fresh in taken:  # another repository's clone lives there
                n += 1
                fresh = base / f"{source.name}-{n}"
            # the clone serves every source of its key: errors name the repository and ref, not one source
            clone = GitSource(source, base, directory=fresh,
                              context=f" for {redact(source.url)} ({source.revision})")
            if not clone.fetched_under_its_key():  # left by an earlier spec or process for another key
                shutil.rmtree(fresh, ignore_errors=True)
            clone.holding = self._in_round
            self._clones[key] = clone
        elif credentials_changed:
            clone.reread_credentials()
        self._users.setdefault(key, set()).add(source.name)
        return clone

    def release(self, name: str) -> None:
        """Source ``name`` no longer fetches; a clone nobody uses is forgotten."""
        for key in [k for k, users in self._users.items() if name in users]:
            self._release(key, name)

    def _release(self, key: tuple[object, ...], name: str) -> None:
        users = self._users[key]
        users.discard(name)
        if not users:
            del self._users[key]
            self._clones.pop(key, None)

    @contextmanager
    def round(self) -> Iterator[None]:
        """One pass over the due sources: each clone runs ``ls-remote`` at most once in it."""
        self._in_round = True
        for clone in self._clones.values():
            clone.holding, clone.held_revision = True, None
        try:
            yield
        finally:
            self._in_round = False
            for clone in self._clones.values():
                clone.holding, clone.held_revision = False, None
