"""``handoff reconciler manifests``: print the reconciler's install manifests."""

from __future__ import annotations

import click

from handoff.manifests.emit import dump_all
from handoff.reconciler.manifests import DEFAULT_IMAGE, PRESETS, manifests


@click.group("reconciler")
def reconciler() -> None:
    """Install the in-cluster reconciler."""


@reconciler.command("manifests")
@click.option("--namespace", default="handoff-system", show_default=True)
@click.option("--cluster-wide/--namespaced", default=True, show_default=True,
              help="Manage any namespace (ClusterRole) or only its own namespace (Role).")
@click.option("--image", default=DEFAULT_IMAGE, show_default=True)
@click.option("--preset", type=click.Choice(PRESETS), default="workloads", show_default=True,
              help="What it may apply: application kinds only, or every kind (cluster-admin).")
@click.option("--impersonate", multiple=True, metavar="NS/NAME",
              help="A ServiceAccount a source's serviceAccount: names (repeatable): grant impersonating it.")
def manifests_command(namespace: str, cluster_wide: bool, image: str, preset: str,
                      impersonate: tuple[str, ...]) -> int:
    """Print Namespace, ServiceAccount, RBAC, ConfigMap, Deployment and Service as YAML."""
    docs = manifests(namespace, cluster_wide=cluster_wide, image=image, preset=preset,
                     impersonate=tuple(impersonate))
    click.echo(dump_all(docs), nl=False)
    return 0
