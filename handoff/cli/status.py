"""``handoff status``: per app × environment, the image Git declares, the revision applied and its health
(from the commit statuses), and whether a promotion is pending."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import click

from handoff.cli.status_options import status_access, status_options
from handoff.workflows.status import status as run_status
from handoff.workflows.status import table


@click.command("status")
@click.option("--output", type=click.Choice(["table", "markdown", "json"]), default="table",
              show_default=True)
@click.option("--depth", type=click.IntRange(1, 1000), default=50, show_default=True,
              help="How many recent commits of the base branch to look through for statuses.")
@status_options
def status(output: str, depth: int, **kw: Any) -> int:
    """Show each app's declared image, applied revision, health and pending promotion per environment."""
    with tempfile.TemporaryDirectory(prefix="handoff-status-") as scratch:
        access = status_access(kw, Path(scratch))
        report = run_status(access.config_repo, access.backend, base=kw["base"], auth=access.git_auth,
                            context=kw["context"], depth=depth)
    click.echo(report.to_json() if output == "json" else table(report, markdown=output == "markdown"))
    return 0
