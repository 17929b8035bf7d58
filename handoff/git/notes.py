"""A git notes ref on a remote, through the one git wrapper: fetched whole (notes are small), written
locally, pushed fast-forward only. ``commitstatus.local`` keeps deployment results in it."""

from __future__ import annotations

from pathlib import Path

from handoff.errors import GitError
from handoff.git.command import DEFAULT_TIMEOUT, NETWORK_RETRY, Git, GitAuth, git_environment
from handoff.git.repo import remote_url
from handoff.redact import redact
from handoff.retry import RetryPolicy

IDENTITY = ("handoff", "handoff@localhost")


class GitNotes:
    """``ref`` of ``remote``, in a scratch repository at ``workdir`` (created on first use)."""

    def __init__(self, remote: str, workdir: Path, ref: str, *, auth: GitAuth | None = None,
                 ssh_command: str | None = None, timeout: float = DEFAULT_TIMEOUT,
                 network_retry: RetryPolicy | None = None) -> None:
        if not ref.startswith("refs/notes/") or ".." in ref or any(c.isspace() for c in ref):
            raise GitError(f"invalid notes ref {ref!r}")
        self.remote = remote_url(remote)
        self.dir = workdir
        self.ref = ref
        self.calls = 0
        env = git_environment(auth=auth, ssh_command=ssh_command)
        self._git = Git(workdir, env, timeout=timeout, context=" for the status notes",
                        network_retry=network_retry or NETWORK_RETRY)

    def _ensure(self) -> None:
        if (self.dir / "HEAD").is_file():
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        self._git.run("init", "--quiet", "--bare", ".")
        self._git.run("remote", "add", "origin", "--", self.remote)

    def fetch(self) -> None:
        self._ensure()
        self.calls += 1
        spec = f"+{self.ref}:{self.ref}"
        done = self._git.run("fetch", "--quiet", "--no-tags", "origin", spec, check=False)
        if done.returncode == 0:
            return
        stderr = done.stderr.decode(errors="replace")
        if "couldn't find remote ref" in stderr:  # nobody has written a status yet
            self._git.run("update-ref", "-d", self.ref, check=False)
            return
        raise GitError(redact(f"git fetch of {self.ref} failed: {stderr.strip().splitlines()[-1:]}"))

    def read(self, commit: str) -> bytes | None:
        self._ensure()
        done = self._git.run("notes", f"--ref={self.ref}", "show", commit, check=False)
        return done.stdout if done.returncode == 0 else None

    def write(self, commit: str, data: bytes) -> None:
        self._ensure()
        name, email = IDENTITY
        self._git.run("-c", f"user.name={name}", "-c", f"user.email={email}", "notes", f"--ref={self.ref}",
                      "add", "--force", "--file=-", commit, input_bytes=data)

    def push(self) -> bool:
        self.calls += 1
        done = self._git.run("push", "--porcelain", "--no-verify", "origin", f"{self.ref}:{self.ref}",
                             check=False)
        if done.returncode == 0:
            return True
        text = (done.stdout + done.stderr).decode(errors="replace")
        if "rejected" in text or "fetch first" in text or "non-fast-forward" in text:
            return False
        raise GitError(redact(f"git push of {self.ref} failed: {text.strip().splitlines()[-1:]}"))
