"""``handoff get sources``: the reconciler's Source objects and their sync state, for operators
without kubectl plugins."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from handoff.kube.client import connect
from handoff.reconciler.sourcetable import list_sources, table, to_json


def _colour_wanted() -> bool:
    """Colours on a terminal only, and never with NO_COLOR set (https://no-color.org)."""
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


@click.group("get")
def get() -> None:
    """Show the reconciler's objects in a cluster."""


@get.command("sources")
@click.option("-n", "--namespace", default="", help="Only this namespace (default: all namespaces).")
@click.option("--kubeconfig", envvar="KUBECONFIG", type=click.Path(dir_okay=False, path_type=Path),
              help="Kubeconfig file; in-cluster config when absent.")
@click.option("-o", "--output", type=click.Choice(["table", "json"]), default="table", show_default=True)
def sources(namespace: str, kubeconfig: Path | None, output: str) -> int:
    """List Source objects: NAMESPACE NAME READY REVISION AGE MESSAGE."""
    rows = list_sources(connect(kubeconfig), namespace)
    click.echo(to_json(rows) if output == "json" else table(rows, colour=_colour_wanted()), nl=False)
    return 0
