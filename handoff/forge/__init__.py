"""Forges: where proposals live. An explicit registry mypy can check, one Protocol (``base.Forge``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from handoff.errors import UsageError
from handoff.forge.base import BranchReader, Forge, Proposal, ProposalRequest
from handoff.forge.infer import token_hint
from handoff.forge.local import LocalForge
from handoff.retry import RetryPolicy

__all__ = ["FORGES", "BranchReader", "Forge", "ForgeSettings", "Proposal", "ProposalRequest",
           "make_forge"]


@dataclass(frozen=True)
class ForgeSettings:
    """How to reach a forge: ``project`` is ``owner/name`` (GitHub) or the project path (GitLab)."""

    project: str = ""
    token: str | None = None
    base_url: str | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    throttle: bool = True
    pipeline_wait: float = 120.0


def _github(settings: ForgeSettings, repo: BranchReader, remote: str) -> Forge:
    from handoff.forge.github import GitHubForge  # noqa: PLC0415 (optional extra, loaded on use)

    if not settings.token:
        raise UsageError(f"the github forge needs a token ({token_hint('github')})")
    if not settings.project:
        raise UsageError("the github forge needs --project owner/name (or a github.com --config-repo URL)")
    return GitHubForge(settings.project, settings.token, base_url=settings.base_url, retry=settings.retry,
                       throttle=settings.throttle)


def _gitlab(settings: ForgeSettings, repo: BranchReader, remote: str) -> Forge:
    from handoff.forge.gitlab import GitLabForge  # noqa: PLC0415 (optional extra, loaded on use)

    if not settings.token:
        raise UsageError(f"the gitlab forge needs a token ({token_hint('gitlab')})")
    if not settings.project:
        raise UsageError("the gitlab forge needs --project group/name (or a gitlab.com --config-repo URL)")
    return GitLabForge(settings.project, settings.token, base_url=settings.base_url, retry=settings.retry,
                       pipeline_wait=settings.pipeline_wait)


def _local(settings: ForgeSettings, repo: BranchReader, remote: str) -> Forge:
    return LocalForge(repo, remote)


FORGES: dict[str, Callable[[ForgeSettings, BranchReader, str], Forge]] = {
    "github": _github,
    "gitlab": _gitlab,
    "local": _local,
}


def make_forge(name: str, settings: ForgeSettings, repo: BranchReader, remote: str) -> Forge:
    factory = FORGES.get(name)
    if factory is None:
        raise UsageError(f"unknown forge {name!r}; choose one of {', '.join(sorted(FORGES))}")
    return factory(settings, repo, remote)
