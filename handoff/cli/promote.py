"""``handoff promote``: propose the image an app runs in one environment to another, once that environment
reported healthy for it (the commit statuses ``handoff wait`` reads; ``--ignore-health`` skips the check)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import click

from handoff.cli.propose_options import common_kwargs, run_and_emit, shared_options
from handoff.cli.status_options import CONTEXT_OPTION, STATUS_KEY_OPTION, status_access
from handoff.workflows.promote import HealthGate
from handoff.workflows.promote import promote as run_promote
from handoff.workflows.propose import ProposeOptions, ProposeResult


@click.command("promote")
@click.option("--app", required=True, help="The app to promote.")
@click.option("--from", "source", required=True, help="The environment to take the image from.")
@click.option("--to", "target", required=True, help="The environment to propose it to.")
@click.option("--ignore-health", is_flag=True,
              help="Promote even if --from has not reported healthy for the image (exit 4 otherwise; "
              "--dry-run never reads the statuses).")
@CONTEXT_OPTION
@STATUS_KEY_OPTION
@shared_options
def promote(app: str, source: str, target: str, ignore_health: bool, context: str, **kw: Any) -> int:
    """Propose APP's image from --from to --to, as a rolling PR (same rules as propose)."""
    def run() -> ProposeResult:
        opts = ProposeOptions(image="", app=app, env=target, **common_kwargs(kw))
        if ignore_health or opts.dry_run:  # a dry run calls no forge, not even to read statuses
            return run_promote(opts, source_env=source)
        with tempfile.TemporaryDirectory(prefix="handoff-promote-") as scratch:
            gate = HealthGate(status_access(kw, Path(scratch)).backend, context=context,
                              signed=kw["status_key_file"] is not None)
            return run_promote(opts, source_env=source, health=gate)

    return run_and_emit(run, kw["output"])
