"""``handoff bump``: write an image reference into the config repo (see handoff.edit.bump)."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import click

from handoff.edit.bump import BumpResult
from handoff.errors import EXIT_OK
from handoff.manifests import yamlio
from handoff.redact import redact
from handoff.workflows.verify import Verification, verified_bump


@click.command("bump")
@click.option("--image", "image", required=True, help="Image reference with a tag and/or digest.")
@click.option("--app", default=None, help="App name from .handoff.yaml or the markers (default: by image).")
@click.option("--env", default=None, help="Environment: only targets for it (default: all).")
@click.option("--config-repo", type=click.Path(file_okay=False, path_type=Path), default=Path(),
              show_default=True, help="The config repository checkout.")
@click.option("--dry-run", is_flag=True, help="Print the diff, write nothing.")
@click.option("--no-verify-render", "no_verify", metavar="REASON", default=None,
              help="Skip rendering the touched environments to prove the edit; the reason is printed.")
@click.option("--allow-repository-change", is_flag=True,
              help="Allow an edit that moves an image to another repository than the one it holds.")
@click.option("--output", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--max-file-size", type=click.IntRange(min=1), default=None,
              help=f"Refuse YAML files larger than this many bytes (default {yamlio.DEFAULT_MAX_BYTES}).")
def bump(*, image: str, app: str | None, env: str | None, config_repo: Path, dry_run: bool, output: str,
         max_file_size: int | None, allow_repository_change: bool, no_verify: str | None) -> int:
    """Write IMAGE into every target of the app, byte-exactly. Exit 0 also when nothing changed."""
    limits = yamlio.Limits(max_bytes=max_file_size) if max_file_size else yamlio.Limits.from_env()
    result, verification = verified_bump(config_repo, image, app=app, env=env, dry_run=dry_run,
                                         limits=limits, allow_repository_change=allow_repository_change,
                                         skip_verification=no_verify)
    if output == "json":
        click.echo(redact(json.dumps(_as_json(result, dry_run) | _verified(verification), indent=2)))
    else:
        click.echo(redact(_as_text(result, dry_run) + _verified_text(verification)), nl=False)
    return EXIT_OK


def _as_json(result: BumpResult, dry_run: bool) -> dict[str, object]:
    held = {"skipped": [f"{e}: promote-only, left alone" for e in result.skipped]} if result.skipped else {}
    return held | {
        "changed": result.changed,
        "dry_run": dry_run,
        "image": result.image,
        "files": list(result.files),
        "changes": [asdict(c) for c in result.changes],
        "diff": result.diff,
    }


def _verified(verification: Verification) -> dict[str, object]:
    if verification.skipped and not verification.skipped.startswith("--no-verify-render"):
        return {}
    return {"verified": {"environments": list(verification.environments), "skipped": verification.skipped}}


def _verified_text(verification: Verification) -> str:
    if verification.environments:
        return f"verified by rendering: {', '.join(verification.environments)}\n"
    skipped_on_request = verification.skipped.startswith("--no")
    return f"render not verified ({verification.skipped})\n" if skipped_on_request else ""


def _as_text(result: BumpResult, dry_run: bool) -> str:
    held = "".join(f"{e}: promote-only, left alone (use handoff promote, or --env {e})\n"
                   for e in result.skipped)
    if not result.changed:
        return f"{held}no change: {result.image} is already set\n"
    lines = [held, result.diff] if dry_run else [held]
    verb = "would change" if dry_run else "changed"
    lines += [f"{c.file}:{c.line}: {c.key}: {c.old or '(absent)'} -> {c.new or '(empty)'}\n"
              for c in result.changes]
    lines.append(f"{verb} {len(result.files)} file(s) to {result.image}\n")
    return "".join(lines)
