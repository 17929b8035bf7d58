"""``handoff reconcile``: the reconciler's entrypoint (container command, CronJob, or one-off --once)."""

from __future__ import annotations

import os
import signal
import socket
import tempfile
import threading
from pathlib import Path
from types import FrameType
from typing import Any

import click

from handoff.errors import EXIT_FAILED, EXIT_OK, UsageError
from handoff.kube.client import connect
from handoff.kube.lease import LeaderElector
from handoff.reconciler.config import (
    RENDERERS,
    Credentials,
    Settings,
    Source,
    Verification,
    load_settings,
    parse_duration,
    with_overrides,
)
from handoff.reconciler.logs import configure_json_logging
from handoff.reconciler.loop import ONCE_ATTEMPTS, Reconciler
from handoff.reconciler.metrics import Metrics, serve
from handoff.reconciler.sourceobjects import SourceObjects
from handoff.reconciler.tenancy import load_tenants
from handoff.reconciler.webhook import Receiver, secret_file
from handoff.reconciler.webhook import serve as serve_webhook


def _flag_source(o: dict[str, Any]) -> Source:
    verify, keys = str(o["verify"]), o["verify_keys"]
    return Source(
        name=o["name"], url=o["repo"], revision=o["revision"], path=o["path_"], renderer=o["renderer"],
        values=tuple(o["values"]), release=o["release"],
        namespace=o["target_namespace"], env=o["env_name"], prune=o["prune"], drift_mode=o["drift"],
        create_namespace=o["create_namespace"],
        interval=parse_duration(o["interval"], key="--interval"),
        credentials=Credentials(token_file=o["token_file"], username=o["git_username"],
                                ssh_key_file=o["ssh_key_file"],
                                known_hosts_file=o["known_hosts_file"]),
        verify=Verification(mode=verify, keyring=keys if verify == "gpg" else None,
                            allowed_signers=keys if verify == "ssh" else None),
    )


@click.command("reconcile")
@click.option("--repo", envvar="HANDOFF_REPO", help="Git URL of the config repo (no credentials in it).")
@click.option("--path", "path_", envvar="HANDOFF_PATH", default=".", show_default=True,
              help="Directory in the repo to render.")
@click.option("--revision", envvar="HANDOFF_REVISION", default="main", show_default=True,
              help="Branch, tag or commit.")
@click.option("--name", envvar="HANDOFF_SOURCE_NAME", default="default", show_default=True,
              help="Source name (inventory and status ConfigMaps are named after it).")
@click.option("--target-namespace", envvar="HANDOFF_TARGET_NAMESPACE", default="default", show_default=True,
              help="Namespace for namespaced objects that set none.")
@click.option("--create-namespace", is_flag=True, envvar="HANDOFF_CREATE_NAMESPACE",
              help="Create --target-namespace when it is missing (labelled as the source's, never pruned), "
                   "as Argo CD's CreateNamespace=true; default: the pass says what to run.")
@click.option("--config", "config_file", envvar="HANDOFF_CONFIG",
              type=click.Path(dir_okay=False, path_type=Path),
              help="Reconciler config file (sources, prune guards, sharding); replaces --repo.")
@click.option("--kubeconfig", envvar="KUBECONFIG", type=click.Path(dir_okay=False, path_type=Path),
              help="Kubeconfig file; in-cluster config when absent.")
@click.option("--namespace", envvar="HANDOFF_NAMESPACE", default=None,
              help="Namespace of the reconciler's own Lease, inventory and status (default handoff-system).")
@click.option("--interval", envvar="HANDOFF_INTERVAL", default="60s", show_default=True)
@click.option("--once", is_flag=True, help="One full pass (apply or drift check), then exit 1 on failure.")
@click.option("--metrics-addr", envvar="HANDOFF_METRICS_ADDR", default=None,
              help="HOST:PORT for /metrics, /healthz, /readyz (default :8080; 'off' disables).")
@click.option("--webhook-addr", envvar="HANDOFF_WEBHOOK_ADDR", default=None,
              help="HOST:PORT for the push-webhook receiver (POST /hook; GitHub, GitLab); off when absent.")
@click.option("--webhook-secret-file", envvar="HANDOFF_WEBHOOK_SECRET_FILE",
              type=click.Path(dir_okay=False, path_type=Path),
              help="File with the webhook secret (GitHub HMAC key, GitLab token), e.g. a mounted Secret.")
@click.option("--leader-elect/--no-leader-elect", default=None,
              help="Lease-based leader election (default: on, off with --once).")
@click.option("--identity", envvar="POD_NAME", default=None, help="Leader-election identity.")
@click.option("--lease-seconds", type=click.IntRange(2, 3600), default=15, show_default=True,
              help="Lease duration: how long a dead leader blocks a standby replica.")
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path), envvar="HANDOFF_WORKDIR",
              help="Where git checkouts live (default: a temporary directory).")
@click.option("--token-file", envvar="HANDOFF_GIT_TOKEN_FILE",
              help="File with an HTTPS token (mounted Secret).")
@click.option("--git-username", envvar="HANDOFF_GIT_USERNAME", default="git", show_default=True,
              help="User name sent with the HTTPS token (e.g. x-access-token, oauth2).")
@click.option("--ssh-key-file", envvar="HANDOFF_GIT_SSH_KEY_FILE", help="SSH private key file.")
@click.option("--known-hosts-file", envvar="HANDOFF_GIT_KNOWN_HOSTS_FILE", help="SSH known_hosts file.")
@click.option("--verify", type=click.Choice(["none", "gpg", "ssh"]), default="none", show_default=True,
              help="Refuse revisions not signed by a trusted key.")
@click.option("--verify-keys", help="GPG home directory (gpg) or allowed signers file (ssh).")
@click.option("--renderer", type=click.Choice(list(RENDERERS)), envvar="HANDOFF_RENDERER", default="auto",
              show_default=True, help="How to render --path; env: what --env declares in .handoff.yaml.")
@click.option("--values", multiple=True, help="Helm values file in the repo (repeatable).")
@click.option("--release", default="release", show_default=True, help="Helm release name.")
@click.option("--env", "env_name", envvar="HANDOFF_ENV", default=None,
              help="Environment in the repo's .handoff.yaml whose policy params and waivers apply.")
@click.option("--drift", type=click.Choice(["revert", "warn"]), default="revert", show_default=True)
@click.option("--prune/--no-prune", default=True, show_default=True)
@click.option("--sources-from", type=click.Choice(["config", "crd", "both"]), envvar="HANDOFF_SOURCES_FROM",
              default="config", show_default=True,
              help="Serve the sources of --config/--repo, the Source objects in the cluster (watched live), "
                   "or both.")
@click.option("--tenants", "tenants_file", envvar="HANDOFF_TENANTS",
              type=click.Path(dir_okay=False, path_type=Path),
              help="What Source objects in each namespace may touch (replaces the config file's tenants:; "
                   "default: their own namespace only).")
@click.option("--watch-namespace", envvar="HANDOFF_WATCH_NAMESPACE", default="",
              help="Watch Source objects in this namespace only (a namespaced install); default: all.")
@click.option("--hand-over-migrated", is_flag=True, envvar="HANDOFF_HAND_OVER_MIGRATED",
              help="During the upgrade to Source objects: a Source printed by sources-to-crd (annotated "
                   "handoff.dev/migrated-from) that mirrors its config-file source takes its place.")
@click.option("--allow-private-hosts", is_flag=True, envvar="HANDOFF_ALLOW_PRIVATE_HOSTS",
              help="Let Source objects fetch from loopback and link-local hosts (refused by default: a "
                   "tenant would reach the reconciler's own machine or the cloud metadata service).")
def reconcile(**o: Any) -> int:
    """Pull, render, validate, server-side apply, prune and revert drift, continuously."""
    configure_json_logging()
    once, kubeconfig, workdir = bool(o["once"]), o["kubeconfig"], o["workdir"]
    from_crd = o["sources_from"] in ("crd", "both")
    if o["config_file"] is not None:
        settings = load_settings(o["config_file"])
    elif o["repo"]:
        settings = Settings(sources=(_flag_source(o),))
    elif from_crd:
        settings = Settings(sources=())
    else:
        raise UsageError("give --repo URL (with --path and --revision), --config FILE or --sources-from crd")
    if o["sources_from"] == "crd":
        settings = with_overrides(settings, sources=())
    if o["webhook_addr"] and o["webhook_secret_file"] is None:
        raise UsageError("--webhook-addr needs --webhook-secret-file (the secret the forge signs with)")
    if o["namespace"]:
        settings = with_overrides(settings, namespace=o["namespace"])
    elect = (not once) if o["leader_elect"] is None else bool(o["leader_elect"])
    client = connect(kubeconfig)
    metrics = Metrics()
    addr = o["metrics_addr"] or settings.metrics_addr
    server = serve(metrics, addr) if addr != "off" and not once else None
    elector = LeaderElector(client, settings.namespace, settings.lease_name,
                            o["identity"] or f"{socket.gethostname()}-{os.getpid()}",
                            lease_seconds=o["lease_seconds"]) if elect else None
    work = workdir or Path(tempfile.mkdtemp(prefix="handoff-reconciler-"))
    reconciler = Reconciler(settings, client, work, metrics=metrics, elector=elector)
    # a tenants file replaces the config file's tenants: (as every flag overrides its key)
    tenants = load_tenants(o["tenants_file"]) if o["tenants_file"] else settings.tenants
    objects = SourceObjects(reconciler, tenants=tenants, namespace=o["watch_namespace"],
                            allow_private_hosts=bool(o["allow_private_hosts"]),
                            hand_over_migrated=bool(o["hand_over_migrated"])) if from_crd else None
    hooks = serve_webhook(Receiver(reconciler, secret_file(o["webhook_secret_file"]), metrics,
                                   handover=objects.hand_over if objects is not None else None),
                          o["webhook_addr"]) if o["webhook_addr"] and not once else None
    try:
        if once:
            if objects is not None:  # one look at the Source objects instead of a watch
                objects.sources_watch.relist()
                reconciler.drain()
            if elector is not None and not elector.try_acquire_or_renew():
                lease = f"{settings.namespace}/{settings.lease_name}"
                raise UsageError(f"lease {lease} is held by another replica")
            results = reconciler.run_once(attempts=ONCE_ATTEMPTS)
            for r in results:
                click.echo(f"{r.source}: {r.result}: {r.message}")
            return EXIT_OK if all(r.ok for r in results) else EXIT_FAILED
        stop = threading.Event()

        def on_signal(signum: int, frame: FrameType | None) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        if elector is not None:
            threading.Thread(target=elector.run, args=(stop,), name="lease", daemon=True).start()
        if objects is not None:
            objects.start(stop)
        reconciler.run(stop)
        if elector is not None:
            elector.release()
        return EXIT_OK
    finally:
        for running in (server, hooks):
            if running is not None:
                running.shutdown()
