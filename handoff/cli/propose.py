"""``handoff propose``: bump, validate, and propose an image as one rolling PR (or a direct commit)."""

from __future__ import annotations

from typing import Any

import click

from handoff.cli.propose_options import common_kwargs, run_and_emit, shared_options
from handoff.cli.render_options import render_options
from handoff.workflows.propose import ProposeOptions
from handoff.workflows.propose import propose as run_propose


@click.command("propose")
@click.option("--image", required=True, help="The image reference to propose, e.g. reg/app:1.4.2[@sha256:…].")
@click.option("--app", required=True, help="The app whose image changes.")
@click.option("--env", required=True, help="The environment (names the branch and PR without a config).")
@click.option(
    "--resolve-digest", is_flag=True, help="Check the tag exists in its registry and pin its digest."
)
@shared_options
@render_options
def propose(image: str, app: str, env: str, resolve_digest: bool, **kw: Any) -> int:
    """Propose IMAGE for APP in ENV as a rolling PR/MR (or commit it directly with --mode direct)."""
    return run_and_emit(lambda: run_propose(ProposeOptions(
        image=image, app=app, env=env, resolve_digest=resolve_digest, **common_kwargs(kw))), kw["output"])
