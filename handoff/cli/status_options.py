"""Options ``handoff wait`` and ``handoff status`` share: the config repo, and how to read its commit
statuses (the forge, project and token are inferred as for propose; the local forge reads a notes ref)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click

from handoff.cli.propose_options import DEFAULT_GIT_USER, read_token
from handoff.commitstatus import BACKENDS, NOTES_REF, BackendSettings, StatusBackend, make_backend, read_key
from handoff.errors import UsageError
from handoff.forge.infer import TOKEN_GIT_USERNAMES, expand_config_repo, infer_target, token_from_env
from handoff.git.notes import GitNotes
from handoff.git.repo import GitAuth
from handoff.redact import register
from handoff.workflows.status_context import check_template

F = TypeVar("F", bound=Callable[..., Any])


STATUS_KEY_OPTION = click.option(
    "--status-key-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
    help="Local forge: the key the reconciler signs statuses with (its status.keyFile); statuses not "
    "signed with it are ignored.")


def _context(ctx: click.Context, param: click.Parameter, value: str) -> str:
    try:
        return check_template(value)
    except UsageError as e:
        raise click.BadParameter(e.message) from e


CONTEXT_OPTION = click.option(
    "--context", default="handoff/{env}", show_default=True, callback=_context,
    help="The status context the reconciler posts ({env} is filled in; {source} matches every source's "
    "context, read worst-wins, as a sharded reconciler's handoff/{env}/{source}).")


def status_options(fn: F) -> F:
    options = [
        click.option("--config-repo", required=True,
                     help="Config repo: a git URL (no credentials) or a path."),
        click.option("--forge", type=click.Choice(sorted(BACKENDS)), default=None,
                     help="Where the statuses are: default as for propose (github.com, gitlab.com, the CI "
                     "server's host), else local (a git notes ref in the config repo)."),
        click.option("--project", default="", help="owner/name (GitHub) or group/name (GitLab)."),
        click.option("--forge-url", default=None,
                     help="API URL of GitHub Enterprise or self-managed GitLab."),
        click.option("--base", default=None, help="The config repo's branch the reconciler follows "
                     "(default: the remote's default branch)."),
        CONTEXT_OPTION,
        click.option("--token-env", default=None, help="Env var holding the token (default: GITHUB_TOKEN, "
                     "GH_TOKEN; GITLAB_TOKEN, CI_JOB_TOKEN)."),
        click.option("--token-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
                     help="File holding the token."),
        click.option("--git-username", default=None,
                     help="HTTP username sent with the token to git (default per forge)."),
        STATUS_KEY_OPTION,
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


@dataclass(frozen=True)
class StatusAccess:
    config_repo: str
    backend: StatusBackend
    git_auth: GitAuth | None


def status_access(kw: dict[str, Any], workdir: Path) -> StatusAccess:
    """The backend to read statuses with, and git credentials for the config repo (the same token)."""
    config_repo = expand_config_repo(kw["config_repo"], os.environ, exists=Path(kw["config_repo"]).exists())
    target = infer_target(config_repo, forge=kw["forge"], project=kw["project"], forge_url=kw["forge_url"],
                          env=os.environ)
    token = read_token(kw["token_env"], kw["token_file"])
    username = kw["git_username"]
    if token is None and not kw["token_env"] and not kw["token_file"]:
        found = token_from_env(target.forge, os.environ)
        if found is not None:
            token = found.token
            username = username or TOKEN_GIT_USERNAMES.get(found.variable)
            register(token)
    auth = GitAuth(username or DEFAULT_GIT_USER.get(target.forge, "handoff"), token) if token else None
    local = target.forge == "local"
    notes = GitNotes(config_repo, workdir / "notes", NOTES_REF, auth=auth) if local else None
    key_file = kw["status_key_file"]
    key = read_key(key_file, key="--status-key-file") if key_file else None
    backend = make_backend(target.forge, BackendSettings(project=target.project, token=token,
                                                         base_url=target.base_url, notes=notes, key=key))
    return StatusAccess(config_repo, backend, auth)
