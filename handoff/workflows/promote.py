"""Promote: take the image an app runs in one environment and propose it to the next one, with the
same rolling-PR rules as propose. Refuses when the source environment does not validate, or when
the target requires a digest (its ``require-image-digest`` policy is enabled) and the image has none."""

from __future__ import annotations

from dataclasses import replace

from handoff.config import load_config
from handoff.errors import HandoffError, UsageError
from handoff.git.repo import validate_ref
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


class PromotionRefused(HandoffError):
    """The source environment is not fit to promote from."""


def promote(
    opts: ProposeOptions, *, source_env: str, editor: Editor | None = None, validator: Validator | None = None
) -> ProposeResult:
    """Propose what ``source_env`` declares for ``opts.app`` to ``opts.env`` (``opts.image`` is ignored),
    with one clone of the config repo for both the source's checks and the proposal."""
    edit = editor or BumpEditor()
    check = validator or default_validator
    with config_checkout(opts, "promote") as repo:
        base = opts.base or repo.default_branch()
        repo.checkout(repo.fetch(validate_ref(base))[base])
        config = load_config(repo.path)
        source = config.environments.get(source_env) if config else None
        if config is not None and config.environments and source is None:
            # a typo (`--from prd`) would otherwise promote what the targets declare for every environment
            declared = ", ".join(sorted(config.environments))
            raise UsageError(f"unknown environment {source_env!r} (declared: {declared})",
                             file=".handoff.yaml", key="--from")
        if source is not None and source.branch and source.branch != base:
            repo.checkout(repo.fetch(validate_ref(source.branch))[source.branch])
            config = load_config(repo.path)
        env = source_env if config is not None and source_env in config.environments else None
        image = edit.current(repo.path, opts.app, env)
        if image is None:
            raise PromotionRefused(f"{opts.app} declares no image in {source_env}")
        verdict = judge(check, repo.path, config, source_env)
        if verdict.status == "failed":
            why = f" ({verdict.error})" if verdict.error else ""  # a refused render names its cause
            raise PromotionRefused(f"{source_env} does not validate{why}; not promoting {image} "
                                   f"to {opts.env}")
        if policy_enabled(config, opts.env, "require-image-digest") and not image.digest:
            raise PromotionRefused(
                f"{opts.env} requires a digest but {source_env} declares {image} "
                "without one; pin it there first (propose --resolve-digest)"
            )
        target = replace(opts, image=str(image))
        return propose_in(repo, resolve_image(target), target, editor=edit, validator=check)
