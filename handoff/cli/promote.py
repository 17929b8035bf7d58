"""``handoff promote``: propose the image an app runs in one environment to another."""

from __future__ import annotations

from typing import Any

import click

from handoff.cli.propose_options import common_kwargs, run_and_emit, shared_options
from handoff.workflows.promote import promote as run_promote
from handoff.workflows.propose import ProposeOptions, ProposeResult


@click.command("promote")
@click.option("--app", required=True, help="The app to promote.")
@click.option("--from", "source", required=True, help="The environment to take the image from.")
@click.option("--to", "target", required=True, help="The environment to propose it to.")
@shared_options
def promote(app: str, source: str, target: str, **kw: Any) -> int:
    """Propose APP's image from --from to --to, as a rolling PR (same rules as propose)."""
    def run() -> ProposeResult:
        opts = ProposeOptions(image="", app=app, env=target, **common_kwargs(kw))
        return run_promote(opts, source_env=source)

    return run_and_emit(run, kw["output"])
