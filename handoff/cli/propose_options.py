"""Options shared by ``handoff propose`` and ``handoff promote``: forge, git auth, PR metadata, output."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from handoff.errors import HandoffError, UsageError
from handoff.forge import FORGES, ForgeSettings
from handoff.forge.infer import TOKEN_GIT_USERNAMES, expand_config_repo, infer_target, token_from_env
from handoff.git.repo import GitAuth, Identity
from handoff.redact import redact, register
from handoff.report.ci_outputs import github_outputs
from handoff.workflows.propose import ProposeResult

F = TypeVar("F", bound=Callable[..., Any])
# Tokens that authenticate git but not the forge's API calls a proposal needs (GitLab's job token
# cannot create or update merge requests): refused up front rather than failing on the API's 401.
API_REFUSED_TOKENS = {
    "CI_JOB_TOKEN": "CI_JOB_TOKEN cannot open merge requests (GitLab allows it git access only): set "
                    "GITLAB_TOKEN to a project or group access token with the api scope, "
                    "or use --mode direct",
}
DEFAULT_GIT_USER = {"github": "x-access-token", "gitlab": "oauth2", "local": "handoff"}


def _csv(value: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in (value or "").split(",") if v.strip())


def shared_options(fn: F) -> F:
    options = [
        click.option(
            "--config-repo", required=True, help="Config repo: a git URL (no credentials) or a path."
        ),
        click.option(
            "--forge",
            type=click.Choice(sorted(FORGES)),
            default=None,
            help="Default: github for github.com, gitlab for gitlab.com (or the --forge-url / CI server's "
            "host), else local.",
        ),
        click.option(
            "--project",
            default="",
            help="Forge project: owner/name (GitHub) or group/name (GitLab); default: the URL's path.",
        ),
        click.option(
            "--forge-url", default=None, help="API base URL for GitHub Enterprise or self-managed GitLab."
        ),
        click.option("--mode", type=click.Choice(["pr", "direct"]), default="pr", show_default=True),
        click.option(
            "--base", default=None, help="Base branch (default: the env's branch, else the remote's)."
        ),
        click.option(
            "--branch-template", default=None, help="Rolling branch name, default 'handoff/{env}/{app}'."
        ),
        click.option(
            "--on-invalid", type=click.Choice(["fail", "comment"]), default="fail", show_default=True
        ),
        click.option(
            "--allow-downgrade", is_flag=True, help="Allow a lower semver tag than proposed before."
        ),
        click.option("--labels", default=None, help="Comma-separated labels."),
        click.option(
            "--reviewers", default=None, help="Comma-separated reviewers (org/team for GitHub teams)."
        ),
        click.option("--assignees", default=None, help="Comma-separated assignees."),
        click.option("--draft", is_flag=True),
        click.option(
            "--auto-merge", is_flag=True, help="GitHub auto-merge / GitLab merge when pipeline succeeds."
        ),
        click.option("--delete-branch", is_flag=True, help="Delete the branch when merged (GitLab per MR)."),
        click.option(
            "--sign",
            type=click.Choice(["gpg", "ssh", "api"]),
            default=None,
            help="Sign commits: gpg/ssh with git's signing config, api: GitHub creates them (Verified).",
        ),
        click.option("--author", default=None, help="Commit author and committer, 'Name <email>'."),
        click.option(
            "--dry-run",
            is_flag=True,
            help="Edit and validate, print the diff and the PR title/body; commit, push and call nothing.",
        ),
        click.option("--output", type=click.Choice(["text", "json"]), default="text", show_default=True),
        click.option(
            "--token-env",
            default=None,
            help="Name of the env var holding the forge/git token (default: GITHUB_TOKEN, GH_TOKEN; "
            "GITLAB_TOKEN, CI_JOB_TOKEN).",
        ),
        click.option(
            "--token-file",
            type=click.Path(dir_okay=False, path_type=Path),
            default=None,
            help="File holding the forge/git token.",
        ),
        click.option(
            "--git-username",
            default=None,
            help="HTTP username sent with the token to git (default per forge).",
        ),
        click.option(
            "--max-attempts",
            type=click.IntRange(1, 100),
            default=20,
            show_default=True,
            help="Push attempts when racing other jobs.",
        ),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def read_token(token_env: str | None, token_file: Path | None) -> str | None:
    if token_env and token_file:
        raise UsageError("give --token-env or --token-file, not both")
    token: str | None = None
    if token_env:
        # Stripped as a token file is: a secret pasted with its trailing newline is still the secret.
        token = os.environ.get(token_env, "").strip()
        if not token:
            raise UsageError(f"environment variable {token_env} is empty or not set")
    elif token_file:
        try:
            token = token_file.read_text(encoding="utf-8").strip()
        except OSError as e:
            raise UsageError(f"cannot read token file: {e.strerror}", file=str(token_file)) from None
        if not token:
            raise UsageError("token file is empty", file=str(token_file))
    register(token)
    return token


def register_token(token: str) -> str:
    register(token)
    return token


def common_kwargs(kw: dict[str, Any]) -> dict[str, Any]:
    """Turn the shared click values into ``ProposeOptions`` keyword arguments; forge, project and token
    default to what the config repo URL and the environment say (``handoff.forge.infer``)."""
    config_repo = expand_config_repo(kw["config_repo"], os.environ, exists=Path(kw["config_repo"]).exists())
    target = infer_target(config_repo, forge=kw["forge"], project=kw["project"],
                          forge_url=kw["forge_url"], env=os.environ)
    forge = target.forge
    token = read_token(kw["token_env"], kw["token_file"])
    username = kw["git_username"]
    if token is None and not kw["token_env"] and not kw["token_file"]:
        found = token_from_env(forge, os.environ)
        if found is not None:
            token = register_token(found.token)
            username = username or TOKEN_GIT_USERNAMES.get(found.variable)
            if found.variable in API_REFUSED_TOKENS and (kw["mode"] == "pr" or kw["sign"] == "api"):
                raise UsageError(API_REFUSED_TOKENS[found.variable])
    auth = GitAuth(username or DEFAULT_GIT_USER.get(forge, "handoff"), token) if token else None
    return {
        "config_repo": config_repo,
        "forge": forge,
        "forge_settings": ForgeSettings(project=target.project, token=token, base_url=target.base_url),
        "mode": kw["mode"],
        "base": kw["base"],
        "branch_template": kw["branch_template"],
        "on_invalid": kw["on_invalid"],
        "allow_downgrade": kw["allow_downgrade"],
        "labels": _csv(kw["labels"]),
        "reviewers": _csv(kw["reviewers"]),
        "assignees": _csv(kw["assignees"]),
        "draft": kw["draft"],
        "auto_merge": kw["auto_merge"],
        "delete_branch": kw["delete_branch"],
        "sign": kw["sign"],
        "author": Identity.parse(kw["author"]) if kw["author"] else None,
        "dry_run": kw["dry_run"],
        "git_auth": auth,
        "max_attempts": kw["max_attempts"],
    }


def run_and_emit(run: Callable[[], ProposeResult], output: str) -> int:
    """Run a propose/promote and ``emit`` its result. A ``HandoffError`` still goes to stderr (re-raised
    for ``main``), and with ``--output json`` stdout also gets ``{"operation": "none", "error": …}``, so
    CI steps reading the JSON show the cause instead of failing to parse an empty file."""
    try:
        result = run()
    except HandoffError as e:
        if output == "json":
            click.echo(failure_json(str(e)))
        raise
    return emit(result, output)


def failure_json(error: str) -> str:
    """The ``--output json`` result of a propose/promote that stopped before it ran, with its cause."""
    return redact(ProposeResult("none", "", message="failed", error=error).to_json())


def emit(result: ProposeResult, output: str) -> int:
    """Print the result, write ``$GITHUB_OUTPUT`` when set, and return the exit code. A failure's
    cause always goes to stderr as well, whatever ``output`` is."""
    outputs = result.outputs()
    github_output = os.environ.get("GITHUB_OUTPUT")
    if github_output:
        with Path(github_output).open("a", encoding="utf-8") as fh:
            fh.write(github_outputs(outputs))
    if output == "json":
        click.echo(redact(result.to_json()))
    else:
        where = f" {result.pr_url}" if result.pr_url else ""
        click.echo(redact(f"{result.operation}: {result.message}{where}"))
        click.echo(
            redact(f"branch {result.branch} at {result.head_sha[:12]}; validation {result.validation}")
        )
        if result.message.startswith("dry run"):
            _echo_dry_run(result)
    if result.error:
        click.echo(redact(f"handoff: error: {result.error}"), err=True)
    return 1 if result.failed else 0


def _echo_dry_run(result: ProposeResult) -> None:
    click.echo(redact(result.diff.rstrip("\n")))
    if result.title:
        click.echo(redact(f"--- title\n{result.title}\n--- body\n{result.body}"))
