"""A git notes ref on a remote, through the one git wrapper: only its tip fetched (``--depth=1``: every
write is one more commit on the ref, and nobody needs the old ones) and of the tip only the blobs up to
``MAX_NOTE_BYTES`` (a partial fetch, ``--filter=blob:limit``: a bigger blob is never read, so it is never
downloaded either), written locally, pushed fast-forward only. ``commitstatus.local`` keeps deployment
results in it.

Anyone who can push the remote can push the ref, so what it holds is bounded and checked: a note over
``MAX_NOTE_BYTES`` reads as no note, and a ref naming something other than a commit (a blob, a tree) is
dropped locally and replaced by the next push, leased on what it named."""

from __future__ import annotations

import logging
from pathlib import Path

from handoff.errors import GitError
from handoff.git.command import DEFAULT_TIMEOUT, NETWORK_RETRY, Git, GitAuth, git_environment
from handoff.git.repo import remote_url
from handoff.redact import redact
from handoff.retry import RetryPolicy
from handoff.toolrun import OutputTooLarge

IDENTITY = ("handoff", "handoff@localhost")
# a note holds one entry per environment (well under 1 KiB each); the API backends cap a body at 4 MiB
MAX_NOTE_BYTES = 1024 * 1024
log = logging.getLogger(__name__)


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
        self._replacing: str | None = None  # what the remote's ref named when it was not a commit
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
        self._replacing = None
        spec = f"+{self.ref}:{self.ref}"
        # origin is a promisor remote for this fetch only: a later read of a left-out blob fails (reads as
        # no note) instead of fetching it lazily
        done = self._git.run("-c", "remote.origin.promisor=true",
                             "-c", f"remote.origin.partialclonefilter=blob:limit={MAX_NOTE_BYTES}",
                             "fetch", "--quiet", "--no-tags", "--depth=1", "origin", spec, check=False)
        stderr = done.stderr.decode(errors="replace")
        if done.returncode == 0:
            if "filtering not recognized by server" in stderr:
                log.warning("%s does not allow partial fetches (uploadpack.allowFilter): the notes tip was "
                            "fetched whole", redact(self.remote))
            self._drop_if_not_a_commit()
            return
        if "couldn't find remote ref" in stderr:  # nobody has written a status yet
            self._git.run("update-ref", "-d", self.ref, check=False)
            return
        raise GitError(redact(f"git fetch of {self.ref} failed: {stderr.strip().splitlines()[-1:]}"))

    def _drop_if_not_a_commit(self) -> None:
        kind = self._git.run("cat-file", "-t", self.ref, check=False).stdout.decode().strip()
        if kind == "commit":
            return
        tip = self._git.out("rev-parse", self.ref)
        log.warning("%s on %s names a %s, not a notes commit (pushed by hand?): its notes are unreadable; "
                    "the next status posted replaces it", self.ref, redact(self.remote), kind or "bad object")
        self._git.run("update-ref", "-d", self.ref, check=False)
        self._replacing = tip

    def read(self, commit: str) -> bytes | None:
        """The note on ``commit``; None when it has none, or one over ``MAX_NOTE_BYTES``."""
        self._ensure()
        try:
            done = self._git.run("notes", f"--ref={self.ref}", "show", commit, check=False,
                                 max_stdout=MAX_NOTE_BYTES)
        except OutputTooLarge:
            log.warning("the note on %s in %s is over %d bytes: read as no note", commit[:12], self.ref,
                        MAX_NOTE_BYTES)
            return None
        return done.stdout if done.returncode == 0 else None

    def write(self, commit: str, data: bytes) -> None:
        self._ensure()
        name, email = IDENTITY
        self._git.run("-c", f"user.name={name}", "-c", f"user.email={email}", "notes", f"--ref={self.ref}",
                      "add", "--force", "--file=-", commit, input_bytes=data)

    def push(self) -> bool:
        self.calls += 1
        # a ref that named no commit cannot be fast-forwarded: replace it, unless it moved since
        lease = [f"--force-with-lease={self.ref}:{self._replacing}"] if self._replacing else []
        done = self._git.run("push", "--porcelain", "--no-verify", *lease, "origin", f"{self.ref}:{self.ref}",
                             check=False)
        if done.returncode == 0:
            self._replacing = None
            return True
        text = (done.stdout + done.stderr).decode(errors="replace")
        if "rejected" in text or "fetch first" in text or "non-fast-forward" in text or "stale info" in text:
            return False
        raise GitError(redact(f"git push of {self.ref} failed: {text.strip().splitlines()[-1:]}"))
