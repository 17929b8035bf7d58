"""Promote: take the image an app runs in one environment and propose it to the next one, with the
same rolling-PR rules as propose. Refuses when the source environment does not validate, when the
target requires a digest (its ``require-image-digest`` policy is enabled) and the image has none, or,
given a ``HealthGate``, when the source environment has not reported healthy for the image."""

from __future__ import annotations

from dataclasses import dataclass, replace

from handoff.commitstatus import HEALTHY, StatusBackend
from handoff.config import load_config
from handoff.errors import HandoffError, UsageError
from handoff.git.repo import Repo, validate_ref
from handoff.imageref import ImageRef
from handoff.policy.runner import policy_enabled
from handoff.workflows.propose import (
    BumpEditor,
    Editor,
    ProposeOptions,
    ProposeResult,
    Validator,
    config_checkout,
    default_validator,
    judge,
    propose_in,
    resolve_image,
)
from handoff.workflows.status_context import EnvHistory, StatusContext
from handoff.workflows.wait import DEFAULT_DEPTH, commits_declaring, recent_commits

EXIT_UNHEALTHY = 4  # distinct from 1 so a pipeline can tell "not healthy yet" from a failed promote


class PromotionRefused(HandoffError):
    """The source environment is not fit to promote from."""


class SourceUnhealthy(PromotionRefused):
    """The source environment reported something other than healthy for the image (or nothing yet)."""

    exit_code = EXIT_UNHEALTHY


@dataclass(frozen=True)
class HealthGate:
    """Where the source environment's deployment results are read (as ``handoff wait`` reads them):
    the commit statuses the reconciler posts under ``context`` on the commits of the last ``depth``.
    ``signed``: the backend verifies each status with a key, so a reconciler is known to report (it
    signs); no verified status is then "not reported", never "no reconciler" (a deleted or rewritten
    notes ref, or a stale key, must not open the gate)."""

    backend: StatusBackend
    context: str = "handoff/{env}"
    depth: int = DEFAULT_DEPTH
    signed: bool = False


def check_health(repo: Repo, branch: str, env: str, image: ImageRef, *, app: str, gate: HealthGate) -> None:
    """Refuse unless ``env``'s newest status on the commits of ``branch`` that carry ``image`` is
    healthy (with ``{source}`` in the context: the worst of the sources' statuses, a source seen on the newest
    older commit with any but missing there counting as applying). An environment with no
    status on any recent commit, under the context or beside it in its namespace, has no reporting
    reconciler: passed, unless the gate is ``signed`` (then it is refused: no verified status)."""
    context = StatusContext.of(gate.context, env)
    commits = recent_commits(repo, branch, gate.depth)
    carrying = commits_declaring(repo, commits, env, image, app)
    history = EnvHistory(gate.backend.read, context, commits)
    beside: list[str] = []  # contexts of env's namespace the template does not match
    for commit in carrying:
        statuses = gate.backend.read(commit)
        status = history.status_at(commit, statuses)
        if status is None:
            beside = beside or context.others(statuses)
            continue
        if status.state == HEALTHY:
            return
        raise SourceUnhealthy(f"{env} is {status.state} at {commit[:12]} ({status.description}); not "
                              f"promoting {image} (--ignore-health to promote anyway)", key="--from")
    reported = beside or any(context.pick(s) is not None or context.others(s)
                             for s in (gate.backend.read(c) for c in commits if c not in carrying))
    if reported:
        where = f"{carrying[-1][:12]}..{carrying[0][:12]}" if carrying else branch
        hint = (f" (statuses of {env} exist under {', '.join(beside[:3])}: pass --context "
                f"{context.namespace}/{{source}} to read them)" if beside else "")
        raise SourceUnhealthy(f"{env} has not reported a {context.filled} status for {image} yet (at "
                              f"{where}){hint}; wait for it (handoff wait) or pass --ignore-health",
                              key="--from")
    if gate.signed:
        raise SourceUnhealthy(f"no verified {context.filled} status found on the newest {len(commits)} "
                              f"commits of {branch}: none signed with the status key (a stale key, or a "
                              f"deleted or rewritten notes ref, reads so); not promoting {image} "
                              "(--ignore-health to promote anyway)", key="--from")


def promote(
    opts: ProposeOptions, *, source_env: str, editor: Editor | None = None,
    validator: Validator | None = None, health: HealthGate | None = None,
) -> ProposeResult:
    """Propose what ``source_env`` declares for ``opts.app`` to ``opts.env`` (``opts.image`` is ignored),
    with one clone of the config repo for both the source's checks and the proposal; with ``health``,
    only once ``source_env`` reported healthy for that image."""
    edit = editor or BumpEditor()
    check = validator or default_validator
    with config_checkout(opts, "promote") as repo:
        base = opts.base or repo.default_branch()
        source_branch = base
        repo.checkout(repo.fetch(validate_ref(base))[base])
        config = target_config = load_config(repo.path)  # the target's policies: the base branch's
        source = config.environments.get(source_env) if config else None
        if config is not None and config.environments and source is None:
            # a typo (`--from prd`) would otherwise promote what the targets declare for every environment
            declared = ", ".join(sorted(config.environments))
            raise UsageError(f"unknown environment {source_env!r} (declared: {declared})",
                             file=".handoff.yaml", key="--from")
        if source is not None and source.branch and source.branch != base:
            source_branch = source.branch
            repo.checkout(repo.fetch(validate_ref(source.branch))[source.branch])
            config = load_config(repo.path)
        env = source_env if config is not None and source_env in config.environments else None
        image = edit.current(repo.path, opts.app, env)
        if image is None:
            raise PromotionRefused(f"{opts.app} declares no image in {source_env}")
        if health is not None:
            tip = repo.out("rev-parse", "HEAD")
            check_health(repo, source_branch, source_env, image, app=opts.app, gate=health)
            repo.checkout(tip)  # the gate walked the branch's history
        verdict = judge(check, repo.path, config, source_env)
        if verdict.status == "failed":
            why = f" ({verdict.error})" if verdict.error else ""  # a refused render names its cause
            raise PromotionRefused(f"{source_env} does not validate{why}; not promoting {image} "
                                   f"to {opts.env}")
        if policy_enabled(target_config, opts.env, "require-image-digest") and not image.digest:
            raise PromotionRefused(
                f"{opts.env} requires a digest but {source_env} declares {image} "
                "without one; pin it there first (propose --resolve-digest)"
            )
        target = replace(opts, image=str(image))
        return propose_in(repo, resolve_image(target), target, editor=edit, validator=check)
