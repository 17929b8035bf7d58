"""Pull a source: shallow fetch of one branch, tag or commit, revision resolution, optional
commit-signature verification. Credentials travel in the environment, never in argv or URLs."""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from handoff.errors import GitError, ToolMissingError
from handoff.reconciler.config import Source
from handoff.redact import redact, register

_SHA = re.compile(r"^[0-9a-f]{40}$")
_GIT_TIMEOUT = 120


@dataclass(frozen=True)
class Checkout:
    revision: str  # the commit sha
    root: Path  # the working tree at that commit


def git_env(source: Source) -> dict[str, str]:
    """The environment for git: HTTPS token as an extra header, SSH key via GIT_SSH_COMMAND."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update({"GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_NOSYSTEM": "1", "GIT_ASKPASS": "true"})
    config: list[tuple[str, str]] = [("protocol.version", "2")]
    creds = source.credentials
    if creds.token_file:
        token = Path(creds.token_file).read_text(encoding="utf-8").strip()
        register(token)
        basic = base64.b64encode(f"{creds.username}:{token}".encode()).decode()
        register(basic)
        config.append(("http.extraHeader", f"Authorization: Basic {basic}"))
    if creds.ssh_key_file:
        ssh = ["ssh", "-i", creds.ssh_key_file, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes"]
        if creds.known_hosts_file:
            ssh += ["-o", f"UserKnownHostsFile={creds.known_hosts_file}", "-o", "StrictHostKeyChecking=yes"]
        env["GIT_SSH_COMMAND"] = " ".join(ssh)
    env["GIT_CONFIG_COUNT"] = str(len(config))
    for i, (key, value) in enumerate(config):
        env[f"GIT_CONFIG_KEY_{i}"] = key
        env[f"GIT_CONFIG_VALUE_{i}"] = value
    return env


class GitSource:
    """One source's local shallow clone under ``workdir``."""

    def __init__(self, source: Source, workdir: Path) -> None:
        if shutil.which("git") is None:
            raise ToolMissingError("git is not installed")
        self.source = source
        self.dir = workdir / source.name
        self.env = git_env(source)

    def _git(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        try:
            proc = subprocess.run(["git", *args], cwd=self.dir, env=self.env, capture_output=True,
                                  text=True, timeout=_GIT_TIMEOUT, check=False)
        except subprocess.TimeoutExpired as e:
            raise GitError(f"git {_command(args)} timed out after {_GIT_TIMEOUT}s") from e
        if check and proc.returncode != 0:
            err = " ".join((proc.stderr or proc.stdout).split())[:400]
            raise GitError(redact(f"git {_command(args)} failed for source {self.source.name}: {err}"))
        return proc

    def _ensure_repo(self) -> None:
        if (self.dir / ".git").is_dir():
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        self._git("init", "-q")
        self._git("remote", "add", "origin", self.source.url)

    def remote_revision(self) -> str:
        """The commit the configured ref points to now (``ls-remote``, no objects transferred)."""
        rev = self.source.revision
        if _SHA.match(rev):
            return rev
        self._ensure_repo()
        out = self._git("ls-remote", "origin", rev, f"refs/heads/{rev}", f"refs/tags/{rev}",
                        f"refs/tags/{rev}^{{}}").stdout
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
        have = self._git("rev-list", "--quiet", "--objects", "--no-walk", sha, check=False).returncode == 0
        if not have:
            # unpackLimit=1: incoming objects always go through index-pack, so a truncated pack
            # stores nothing at all instead of some loose objects
            self._git("-c", "fetch.unpackLimit=1", "fetch", "-q", "--depth", "1", "--no-tags", "origin", sha)
        self.verify(sha)
        self._git("checkout", "-q", "--force", "--detach", sha)
        self._git("clean", "-q", "-fdx")
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
        saved = self.env
        self.env = {**saved, **env_extra}
        try:
            proc = self._git(*args, check=False)
        finally:
            self.env = saved
        if proc.returncode != 0:
            why = " ".join(proc.stderr.split())[:200] or "no signature"
            raise GitError(f"revision {sha[:12]} of source {self.source.name} is unsigned or not signed "
                           f"by a trusted key ({why}); refusing to apply it")


def _command(args: tuple[str, ...]) -> str:
    """The git subcommand in ``args`` (after any ``-c key=value`` pairs)."""
    while len(args) > 2 and args[0] == "-c":
        args = args[2:]
    return args[0]
