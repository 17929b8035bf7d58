"""The one way handoff runs git: one environment, one timeout policy, one retry policy for the network.

Both ends use it: ``Repo`` (propose and promote) and the reconciler's ``GitSource``.

- The environment: nothing inherited from a ``GIT_*`` variable (``GIT_DIR`` from a hook, ``GIT_TRACE_CURL``
  logging headers) except the job's choice of SSH client; no system or global git config, hence no
  credential helpers, ``url.insteadOf`` rewrites or proxies from the machine; no prompts (no terminal,
  an askpass that answers nothing). Credentials travel only as an ``http.extraHeader`` set through
  ``GIT_CONFIG_COUNT/KEY/VALUE``: never in argv, remote URLs, logs or exceptions.
- Every command has the same deadline; a command past it is killed with its helpers and reported as
  one ``GitError`` line naming the subcommand.
- Network commands are retried under ``handoff.retry`` when the server answered 5xx or dropped the
  connection; a 4xx (bad credentials, no such repository) fails at once. git does not surface the
  server's ``Retry-After``, so the wait is the policy's jittered backoff.
"""

from __future__ import annotations

import base64
import logging
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from handoff.errors import GitError, HandoffError
from handoff.manifests.bounds import RenderLimits
from handoff.redact import redact, register
from handoff.retry import RetryPolicy, TemporaryError, bounded_timeout, retry
from handoff.toolrun import Finished, MemoryTooLarge, TimedOut, require_tool, run

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 300.0
NETWORK_COMMANDS = frozenset({"clone", "fetch", "ls-remote", "pull", "push"})
NETWORK_RETRY = RetryPolicy(attempts=4, base_delay=0.5, max_delay=8.0)
# A forge's git front end answering 5xx or dropping the connection mid-pack is common and short-lived.
_TRANSIENT = re.compile(r"returned error: 5\d\d|HTTP 5\d\d|RPC failed|early EOF|unexpected disconnect|"
                        r"remote end hung up|Connection reset|Operation timed out", re.IGNORECASE)
# The job's SSH client and key stay the job's (a CI job's deploy key), and git's trace2 logs, which record
# commands and timings but never headers (unlike GIT_TRACE_CURL; GIT_TRACE2_CONFIG_PARAMS/ENV_VARS, which
# could print our config or environment, stay out). Nothing else named GIT_* is inherited.
_INHERITED = frozenset({"GIT_SSH", "GIT_SSH_COMMAND", "GIT_SSH_VARIANT", "GIT_TRACE2", "GIT_TRACE2_EVENT",
                        "GIT_TRACE2_PERF", "GIT_TRACE2_BRIEF", "GIT_TRACE2_EVENT_NESTING"})
# What a commit-signing job keeps from its own git config (``git config --global user.signingkey``).
_SIGNING_KEYS = re.compile(r"^(user\.signingkey|gpg\.([a-z0-9]+\.)?program|gpg\.ssh\.defaultkeycommand)$")


@dataclass(frozen=True)
class GitAuth:
    """HTTP credentials for git, sent as an ``Authorization`` header through the environment."""

    username: str
    secret: str

    def __post_init__(self) -> None:
        register(self.secret)
        register(self.header_value())

    def header_value(self) -> str:
        raw = base64.b64encode(f"{self.username}:{self.secret}".encode()).decode()
        return f"Basic {raw}"

    def __repr__(self) -> str:
        return f"GitAuth(username={self.username!r}, secret='***')"


def git_environment(*, auth: GitAuth | None = None, ssh_command: str | None = None,
                    config: Sequence[tuple[str, str]] = ()) -> dict[str, str]:
    """The environment every git child gets (see the module docstring); ``config`` adds settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_") or k in _INHERITED}
    settings: list[tuple[str, str]] = [
        ("protocol.ext.allow", "never"),
        ("core.hooksPath", os.devnull),
        ("credential.helper", ""),  # an empty value clears any helper list
        # no background gc/maintenance: a detached one holds our pipes open and outlives handoff
        ("gc.auto", "0"),
        ("maintenance.auto", "false"),
        # Memory a repo cannot inflate: blobs over 1 MiB are streamed (hashed by index-pack, written by
        # checkout) rather than held whole, and pack windows and delta caches stay small, so a git child
        # fits the child memory cap however big a blob of zeros the repo holds (issue 13).
        ("core.bigFileThreshold", "1m"),
        ("core.packedGitLimit", "64m"),
        ("core.packedGitWindowSize", "16m"),
        ("core.deltaBaseCacheLimit", "16m"),
        ("pack.windowMemory", "32m"),
        ("pack.deltaCacheSize", "16m"),
        *config,
    ]
    if auth is not None:
        settings.append(("http.extraHeader", f"Authorization: {auth.header_value()}"))
    env["GIT_CONFIG_COUNT"] = str(len(settings))
    for i, (key, value) in enumerate(settings):
        env[f"GIT_CONFIG_KEY_{i}"] = key
        env[f"GIT_CONFIG_VALUE_{i}"] = value
    env.update({"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_TERMINAL_PROMPT": "0",
                "GIT_ASKPASS": "true", "SSH_ASKPASS": "true", "LC_ALL": "C"})
    if ssh_command is not None:
        env["GIT_SSH_COMMAND"] = ssh_command
    return env


class TransientGitError(TemporaryError):
    """A network git command the server may well answer next time; a ``GitError`` once retries run out."""

    log_level = logging.INFO

    def giving_up(self, what: str, attempts: int) -> HandoffError:
        return GitError(self.exhausted_message(what, attempts))


def subcommand(args: Sequence[str]) -> str:
    """The git subcommand in ``args`` (after any ``-c key=value`` pairs): safe to name in errors."""
    rest = list(args)
    while len(rest) > 2 and rest[0] == "-c":
        rest = rest[2:]
    return rest[0] if rest else "(none)"


class Git:
    """git in one directory with one environment. ``context`` ends error messages (" for source web")."""

    def __init__(self, cwd: Path, env: Mapping[str, str], *, timeout: float = DEFAULT_TIMEOUT,
                 network_retry: RetryPolicy = NETWORK_RETRY, context: str = "",
                 max_rss: int | None = None) -> None:
        self.cwd = cwd
        self.env = dict(env)
        self.timeout = timeout
        # the renderers' child memory cap (``HANDOFF_MAX_CHILD_MEMORY``): how big a blob is, the repo chooses
        self.max_rss = max_rss or RenderLimits.from_env().max_child_memory
        self.network_retry = network_retry
        self.context = context
        self._binary = require_tool("git", "clone and fetch the config repo")

    def run(self, *args: str, check: bool = True, input_bytes: bytes | None = None,
            extra_env: Mapping[str, str] | None = None, max_stdout: int | None = None,
            on_stdout: Callable[[bytes], None] | None = None) -> Finished:
        """Run ``git args``; with ``check`` a non-zero exit is a ``GitError`` with git's last line. Past
        ``max_stdout`` bytes of output git is killed and ``toolrun.OutputTooLarge`` raised; ``on_stdout``
        reads stdout as it comes instead of keeping it (``toolrun.run``)."""
        command = subcommand(args)
        env = {**self.env, **(extra_env or {})}

        def once() -> Finished:
            done = self._spawn(command, args, env, input_bytes, max_stdout=max_stdout, on_stdout=on_stdout)
            if done.returncode != 0 and command in NETWORK_COMMANDS:
                detail = self._detail(done)
                if _TRANSIENT.search(detail) or _TRANSIENT.search(done.stderr.decode(errors="replace")):
                    raise TransientGitError(redact(f"git {command} failed{self.context}: {detail}"))
            return done

        if command in NETWORK_COMMANDS:
            done = retry(once, self.network_retry, what=f"git {command}")
        else:
            done = once()
        if check and done.returncode != 0:
            raise GitError(redact(f"git {command} failed{self.context}: {self._detail(done)}"))
        return done

    def out(self, *args: str) -> str:
        return self.run(*args).stdout.decode(errors="replace").strip()

    def _spawn(self, command: str, args: Sequence[str], env: Mapping[str, str],
               input_bytes: bytes | None, *, max_stdout: int | None = None,
               on_stdout: Callable[[bytes], None] | None = None) -> Finished:
        log.debug("git %s", command)
        try:
            return run([self._binary, *args], timeout=bounded_timeout(self.timeout), cwd=self.cwd, env=env,
                       input_bytes=input_bytes, max_stdout=max_stdout, max_rss=self.max_rss,
                       on_stdout=on_stdout)
        except TimedOut as e:
            raise GitError(f"git {command} {e}{self.context}") from None
        except MemoryTooLarge as e:
            raise GitError(f"git {command} {e} and was killed{self.context} "
                           "(HANDOFF_MAX_CHILD_MEMORY)") from None
        except OSError as e:
            raise GitError(f"git {command} cannot run{self.context}: {e}") from e

    @staticmethod
    def _detail(done: Finished) -> str:
        """git's last line on stderr (or stdout), cut to a sane length; the exit code when it said nothing."""
        for stream in (done.stderr, done.stdout):
            lines = [line.strip() for line in stream.decode(errors="replace").splitlines() if line.strip()]
            if lines:
                return lines[-1][:400]
        return f"exit code {done.returncode}"

    def job_signing_config(self) -> list[tuple[str, str]]:
        """The signing settings (``user.signingkey``, ``gpg.*.program``) from the job's own git config,
        which :func:`git_environment` otherwise keeps out: a CI job names its signing key there."""
        job_env = {k: v for k, v in os.environ.items()
                   if not re.match(r"^GIT_CONFIG_(COUNT|KEY_\d+|VALUE_\d+|PARAMETERS)$", k)}
        try:
            done = run([self._binary, "config", "--includes", "--get-regexp", r"^(user|gpg)\."],
                       timeout=self.timeout, cwd=self.cwd, env=job_env)
        except (TimedOut, OSError):
            return []
        found: list[tuple[str, str]] = []
        for line in done.stdout.decode(errors="replace").splitlines():
            key, _, value = line.partition(" ")
            if _SIGNING_KEYS.match(key):
                found.append((key, value))
        return found
