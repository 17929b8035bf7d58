"""Defaults a CI job should not have to type: which forge, which project and which token, read from the
config repo's URL, ``--forge-url`` and the CI system's own variables.

Tokens are only ever read from the environment here (never from argv or a URL), and the name of the
variable that held one is kept so the git username can follow it (GitLab's job token authenticates
git as ``gitlab-ci-token``).
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass

from handoff.errors import UsageError

KNOWN_HOSTS = {"github.com": "github", "www.github.com": "github", "gitlab.com": "gitlab"}
# Tried in order when no --token-env/--token-file is given; the first non-empty one wins.
TOKEN_VARIABLES = {"github": ("GITHUB_TOKEN", "GH_TOKEN"), "gitlab": ("GITLAB_TOKEN", "CI_JOB_TOKEN")}
# The HTTP username git must send with a token from this variable (others use the forge's default).
TOKEN_GIT_USERNAMES = {"CI_JOB_TOKEN": "gitlab-ci-token"}
_SCP_LIKE = re.compile(r"^(?:[^@/]+@)?(?P<host>[^:/]+):(?P<path>[^/].*)$")


@dataclass(frozen=True)
class ForgeTarget:
    """Where proposals go: ``forge`` is a key of ``handoff.forge.FORGES``."""

    forge: str
    project: str = ""
    base_url: str | None = None


@dataclass(frozen=True)
class EnvToken:
    variable: str
    token: str


def split_remote(url: str) -> tuple[str, str] | None:
    """``(host, path)`` of a git remote (https, ssh, scp-like ``git@host:path``); None for a local path."""
    if "://" in url:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme == "file" or not parts.hostname:
            return None
        return parts.hostname.lower(), parts.path
    match = _SCP_LIKE.match(url)
    if match is None or "/" in match.group("host"):
        return None
    return match.group("host").lower(), match.group("path")


_PROJECT_PATH = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*(?:/[A-Za-z0-9_][A-Za-z0-9_.-]*)+$")


def expand_config_repo(config_repo: str, env: Mapping[str, str], *, exists: bool) -> str:
    """``group/project`` (as actions/checkout's ``repository:`` or a GitLab include names a project) is
    that project's clone URL on the CI job's own server (``CI_SERVER_URL``, ``GITHUB_SERVER_URL``).
    Anything else, and a path that ``exists`` locally, is kept as given."""
    if exists or split_remote(config_repo) is not None or not _PROJECT_PATH.match(config_repo):
        return config_repo
    server = env.get("CI_SERVER_URL") or env.get("GITHUB_SERVER_URL") or ""
    if not server.startswith(("https://", "http://")):
        return config_repo
    return f"{server.rstrip('/')}/{config_repo.removesuffix('.git')}.git"


def project_from_path(path: str, *, prefix: str = "") -> str:
    """``owner/name`` or ``group/sub/name`` from a remote's path (``.git`` and slashes stripped)."""
    path = path.strip("/")
    prefix = prefix.strip("/")
    if prefix and (path == prefix or path.startswith(prefix + "/")):
        path = path[len(prefix):].strip("/")
    return path.removesuffix(".git")


def _host(url: str | None) -> str:
    return (urllib.parse.urlsplit(url).hostname or "").lower() if url else ""


def _kind_of_forge_url(forge_url: str, env: Mapping[str, str]) -> str | None:
    path = urllib.parse.urlsplit(forge_url).path
    if "/api/v3" in path or _host(forge_url).startswith("api.github"):
        return "github"
    if "/api/v4" in path:
        return "gitlab"
    host = _host(forge_url)
    if host and host == _host(env.get("CI_SERVER_URL")):
        return "gitlab"
    if host and host in (_host(env.get("GITHUB_SERVER_URL")), _host(env.get("GITHUB_API_URL"))):
        return "github"
    return KNOWN_HOSTS.get(host)


def _web_prefix(forge_url: str | None) -> str:
    """The path a self-hosted forge is served under (``/gitlab`` in ``https://h/gitlab``), API parts cut."""
    if not forge_url:
        return ""
    path = urllib.parse.urlsplit(forge_url).path
    return re.sub(r"/api/v[34]/?$", "", path.rstrip("/"))


def infer_target(config_repo: str, *, forge: str | None, project: str, forge_url: str | None,
                 env: Mapping[str, str]) -> ForgeTarget:
    """The forge, project and API URL to use; what the user gave always wins.

    Without ``--forge``: github.com and gitlab.com are known; a self-hosted host is recognised from
    ``--forge-url`` (``/api/v3`` GitHub Enterprise, ``/api/v4`` GitLab) or from the CI system the job
    runs in (``CI_SERVER_URL``, ``GITHUB_SERVER_URL``); anything else (a path, an unknown host) is
    the local forge, which records the proposal in the branch.
    """
    remote = split_remote(config_repo)
    host, path = remote if remote else ("", "")
    kind = forge
    base_url = forge_url
    if kind is None and forge_url:
        kind = _kind_of_forge_url(forge_url, env)
        if kind is None:
            raise UsageError(f"cannot tell whether --forge-url {forge_url} is GitHub or GitLab: "
                             "give --forge github or --forge gitlab")
    if kind is None and host:
        kind = KNOWN_HOSTS.get(host)
        if kind is None and host == _host(env.get("CI_SERVER_URL")):
            kind, base_url = "gitlab", env.get("CI_SERVER_URL")
        elif kind is None and host == _host(env.get("GITHUB_SERVER_URL")):
            kind, base_url = "github", env.get("GITHUB_API_URL")
    kind = kind or "local"
    if not project and kind in TOKEN_VARIABLES and path:
        project = project_from_path(path, prefix=_web_prefix(base_url))
    return ForgeTarget(forge=kind, project=project, base_url=base_url or None)


def token_from_env(forge: str, env: Mapping[str, str]) -> EnvToken | None:
    """The forge's conventional token variable (``GITHUB_TOKEN``, ``GH_TOKEN``; ``GITLAB_TOKEN``,
    ``CI_JOB_TOKEN``), for when neither ``--token-env`` nor ``--token-file`` is given."""
    for variable in TOKEN_VARIABLES.get(forge, ()):
        token = env.get(variable, "").strip()
        if token:
            return EnvToken(variable, token)
    return None


def token_hint(forge: str) -> str:
    """How to give ``forge`` a token, for error messages."""
    names = "/".join(TOKEN_VARIABLES.get(forge, ()))
    return f"--token-env, --token-file or {names}" if names else "--token-env or --token-file"


__all__ = ["EnvToken", "ForgeTarget", "expand_config_repo", "infer_target", "project_from_path",
           "split_remote", "token_from_env", "token_hint"]
