"""Promote: take the image an app runs in one environment and propose it to the next one, with the
same rolling-PR rules as propose. Refuses when the source environment does not validate, or when
the target requires a digest (its ``require-image-digest`` policy is enabled) and the image has none."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import replace
from pathlib import Path

from handoff.config import load_config
from handoff.errors import HandoffError, UsageError
from handoff.git.repo import Repo, validate_ref
from handoff.policy.runner import policy_enabled
from handoff.workflows.propose import (
    Editor,
    ProposeOptions,
    ProposeResult,
    Validator,
    default_editor,
    default_validator,
    propose,
)


class PromotionRefused(HandoffError):
    """The source environment is not fit to promote from."""


def promote(
    opts: ProposeOptions, *, source_env: str, editor: Editor | None = None, validator: Validator | None = None
) -> ProposeResult:
    """Propose what ``source_env`` declares for ``opts.app`` to ``opts.env`` (``opts.image`` is ignored)."""
    edit = editor or default_editor()
    check = validator or default_validator
    parent = Path(tempfile.mkdtemp(prefix="handoff-promote-", dir=opts.workdir))
    try:
        repo = Repo.init(parent / "repo", opts.config_repo, auth=opts.git_auth)
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
        validation = check(repo.path, config, source_env)
        if validation.status == "failed":
            raise PromotionRefused(f"{source_env} does not validate; not promoting {image} to {opts.env}")
        if policy_enabled(config, opts.env, "require-image-digest") and not image.digest:
            raise PromotionRefused(
                f"{opts.env} requires a digest but {source_env} declares {image} "
                "without one; pin it there first (propose --resolve-digest)"
            )
    finally:
        shutil.rmtree(parent, ignore_errors=True)
    return propose(replace(opts, image=str(image)), editor=edit, validator=check)
