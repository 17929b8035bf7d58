"""The operator's render flags (``--allow-remote``, every ``RenderLimits`` cap) shared by validate, propose
and plan: the command runs inside ``handoff.render.render_policy`` built from them, so every render it makes
obeys."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

import click

from handoff.manifests.bounds import RENDER_LIMIT_ENV, RenderLimits
from handoff.render import RenderPolicy, render_policy
from handoff.render.policy import ALLOW_REMOTE_ENV, checked_remotes

F = TypeVar("F", bound=Callable[..., Any])
_CAPS = (("max_output_bytes", "--max-render-output-bytes", "bytes one renderer (helm, kustomize) may write"),
         ("max_objects", "--max-render-objects", "objects one render may produce"),
         ("max_total_bytes", "--max-render-total-bytes", "bytes (as JSON) one render may produce"),
         ("max_nodes", "--max-render-nodes", "YAML nodes one render may parse"),
         ("max_child_memory", "--max-child-memory", "resident bytes one renderer child (with what it starts) "
                                                    "may hold before it is killed"))


def render_options(command: F) -> F:
    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        remotes = (kwargs.pop("allow_remote") or ()) + tuple(RenderPolicy.from_env().allowed_remotes)
        defaults = RenderLimits.from_env()
        caps = {field: kwargs.pop(field) for field, _, _ in _CAPS}
        limits = RenderLimits(**{f: v if v is not None else getattr(defaults, f) for f, v in caps.items()})
        allowed = checked_remotes(remotes, source="--allow-remote")
        policy = RenderPolicy(limits=limits, allowed_remotes=allowed)
        with render_policy(policy):
            return command(*args, **kwargs)

    decorated: Any = wrapper
    for field, flag, what in _CAPS:
        default = getattr(RenderLimits(), field)
        help_text = f"Cap on the {what} (default {default}, or ${RENDER_LIMIT_ENV[field]})."
        decorated = click.option(flag, field, type=click.IntRange(min=1), default=None,
                                 help=help_text)(decorated)
    decorated = click.option("--allow-remote", "allow_remote", multiple=True, metavar="URL",
                             help="Let kustomize fetch this remote, pinned (?ref=<40-hex commit> or "
                                  f"@sha256:<digest>); repeatable, also ${ALLOW_REMOTE_ENV}. The config repo "
                                  "cannot allow remotes.")(decorated)
    return cast("F", decorated)
