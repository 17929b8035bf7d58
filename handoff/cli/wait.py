"""``handoff wait``: block a CI job until ENV reports healthy (exit 0), degraded or failed (exit 1) for a
config commit or an image (1 too when a newer revision superseded the image), the statuses cannot be read
(exit 5: denied, or never readable until the deadline), or the timeout passes (exit 124); reads commit
statuses, not the cluster."""

from __future__ import annotations

import itertools
import sys
import tempfile
from pathlib import Path
from typing import Any

import click

from handoff.cli.status_options import status_access, status_options
from handoff.imageref import parse
from handoff.reconciler.config import parse_duration
from handoff.workflows.wait import Progress, WaitOptions
from handoff.workflows.wait import wait as run_wait

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


def _describe(p: Progress) -> str:
    if p.problem:
        return f"not known yet ({p.problem})"
    if p.commit is None:
        return "waiting for the image to reach the config repo"
    state = f"{p.status.state}: {p.status.description}" if p.status else "no status yet"
    return f"{p.commit[:12]} {state}"


class _Reporter:
    """A spinner on a terminal; in a CI log, one line every ``every`` seconds (and on each change)."""

    def __init__(self, env: str, every: float, tty: bool) -> None:
        self.env, self.every, self.tty = env, every, tty
        self.spin = itertools.cycle(SPINNER)
        self.last_line, self.last_at = "", -every

    def __call__(self, p: Progress) -> None:
        text = f"waiting for {self.env}: {_describe(p)} ({p.elapsed:.0f}s)"
        if self.tty:
            click.echo(f"\r{next(self.spin)} {text}\033[K", nl=False, err=True)
            return
        changed = _describe(p) != self.last_line
        if changed or p.elapsed - self.last_at >= self.every:
            click.echo(text, err=True)
            self.last_line, self.last_at = _describe(p), p.elapsed


@click.command("wait")
@click.option("--env", required=True, help="The environment to wait for.")
@click.option("--commit", default=None, help="The config repo commit to wait for.")
@click.option("--image", default=None, help="Wait for the config commits declaring this image in ENV.")
@click.option("--app", default=None, help="With --image: the app declaring it (default: any app).")
@click.option("--timeout", default="10m", show_default=True, help="Give up after this long (30s, 10m, 1h).")
@click.option("--interval", default="5s", show_default=True, help="How often to read the statuses.")
@click.option("--progress-every", default="30s", show_default=True,
              help="Off a terminal: a progress line this often.")
@status_options
def wait(env: str, commit: str | None, image: str | None, app: str | None, **kw: Any) -> int:
    """Wait until ENV reports healthy or failed for a config commit or an image (exit 0, 1; 5 statuses
    unreadable; 124 timed out)."""
    with tempfile.TemporaryDirectory(prefix="handoff-wait-") as scratch:
        access = status_access(kw, Path(scratch))
        opts = WaitOptions(config_repo=access.config_repo, env=env, commit=commit,
                           image=parse(image) if image else None, app=app, context=kw["context"],
                           timeout=parse_duration(kw["timeout"], key="--timeout"),
                           interval=parse_duration(kw["interval"], key="--interval"), base=kw["base"],
                           git_auth=access.git_auth, workdir=Path(scratch))
        tty = sys.stderr.isatty()
        every = parse_duration(kw["progress_every"], key="--progress-every")
        result = run_wait(opts, access.backend, on_progress=_Reporter(env, every, tty))
    if tty:
        click.echo("", err=True)
    click.echo(result.message)
    return result.exit_code
