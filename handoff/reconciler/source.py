"""Pull a source: shallow fetch of one branch, tag or commit, revision resolution, optional
commit-signature verification. Credentials travel in the environment, never in argv or URLs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from handoff.errors import GitError
from handoff.git.command import DEFAULT_TIMEOUT, Git, GitAuth, git_environment
from handoff.reconciler.config import Source
from handoff.redact import redact
from handoff.retry import RetryPolicy
from handoff.toolrun import Finished

_SHA = re.compile(r"^[0-9a-f]{40}$")
# One try per pass: the loop retries whole passes under the same policy's backoff (``loop._pass_backoff``)
# and reports each failure in the status; retrying inside a pass too would multiply the two.
ONE_TRY = RetryPolicy(attempts=1)


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
    ssh_command = None
    if creds.ssh_key_file:
        ssh = ["ssh", "-i", creds.ssh_key_file, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes"]
        if creds.known_hosts_file:
            ssh += ["-o", f"UserKnownHostsFile={creds.known_hosts_file}", "-o", "StrictHostKeyChecking=yes"]
        ssh_command = " ".join(ssh)
    return git_environment(auth=auth, ssh_command=ssh_command, config=[("protocol.version", "2")])


class GitSource:
    """One source's local shallow clone under ``workdir``."""

    def __init__(self, source: Source, workdir: Path, *, timeout: float = DEFAULT_TIMEOUT,
                 network_retry: RetryPolicy = ONE_TRY) -> None:
        self.source = source
        self.dir = workdir / source.name
        self._git = Git(self.dir, git_env(source), timeout=timeout, network_retry=network_retry,
                        context=f" for source {source.name}")

    def _run(self, *args: str, check: bool = True, extra_env: dict[str, str] | None = None) -> Finished:
        return self._git.run(*args, check=check, extra_env=extra_env)

    def _ensure_repo(self) -> None:
        if (self.dir / ".git").is_dir():
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        self._run("init", "-q")
        self._run("remote", "add", "origin", self.source.url)

    def remote_revision(self) -> str:
        """The commit the configured ref points to now (``ls-remote``, no objects transferred)."""
        rev = self.source.revision
        if _SHA.match(rev):
            return rev
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
        """Shallow-fetch ``sha`` (depth 1) and check it out; verify its signature if configured."""
        self._ensure_repo()
        # The whole tree, not just the commit: a fetch cut off mid-pack used to leave the commit object
        # without its blobs, and every later pass skipped the fetch and failed to check out, forever.
        have = self._run("rev-list", "--quiet", "--objects", "--no-walk", sha, check=False).returncode == 0
        if not have:
            # unpackLimit=1: incoming objects always go through index-pack, so a truncated pack
            # stores nothing at all instead of some loose objects
            self._run("-c", "fetch.unpackLimit=1", "fetch", "-q", "--depth", "1", "--no-tags", "origin", sha)
        self.verify(sha)
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
                raise GitError(f"source {self.source.name}: ssh verification needs allowedSigners")
            args = ["-c", f"gpg.ssh.allowedSignersFile={v.allowed_signers}", *args]
        elif v.keyring:
            env_extra["GNUPGHOME"] = v.keyring
        proc = self._run(*args, check=False, extra_env=env_extra)
        if proc.returncode != 0:
            why = " ".join(proc.stderr.decode(errors="replace").split())[:200] or "no signature"
            raise GitError(f"revision {sha[:12]} of source {self.source.name} is unsigned or not signed "
                           f"by a trusted key ({why}); refusing to apply it")

