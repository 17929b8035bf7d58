"""``handoff reconciler manifests``: print the reconciler's install manifests; ``sources-to-crd``: the
config file's sources as Source objects (the upgrade from the ConfigMap form)."""

from __future__ import annotations

from pathlib import Path

import click

from handoff.manifests.emit import dump_all
from handoff.reconciler.config import load_settings
from handoff.reconciler.manifests import DEFAULT_IMAGE, PRESETS, manifests
from handoff.reconciler.migrate import CREDENTIALS_SECRET, VERIFY_SECRET, sources_to_crd


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


@reconciler.command("sources-to-crd")
@click.option("--config", "config_file", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The reconciler config file whose sources to print as Source objects.")
@click.option("--namespace", default=None,
              help="Namespace of the Source objects (default: each source's target namespace).")
@click.option("--secret-name", default=CREDENTIALS_SECRET, show_default=True,
              help="The Secret (in each object's namespace) the git credentials move to.")
@click.option("--verify-secret-name", default=VERIFY_SECRET, show_default=True,
              help="The Secret holding the trusted keys, for sources that verify signatures.")
def sources_to_crd_command(config_file: Path, namespace: str | None, secret_name: str,
                           verify_secret_name: str) -> int:
    """Print the config file's sources as handoff.dev/v1 Source objects; notes on stderr."""
    migrated = sources_to_crd(load_settings(config_file), namespace=namespace, secret=secret_name,
                              verify_secret=verify_secret_name)
    for note in migrated.notes:
        click.echo(f"note: {note}", err=True)
    click.echo(dump_all(migrated.objects), nl=False)
    return 0
