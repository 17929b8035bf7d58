"""The command line: a thin shell over the library. Each command lives in its own module and is
registered in ``COMMANDS``; ``main(argv) -> int`` maps errors to exit codes.
"""

from __future__ import annotations

import importlib
import logging
import os
import signal
import sys
import tempfile
import threading
import traceback
from collections.abc import Sequence
from pathlib import Path

import click

from handoff import __version__
from handoff.errors import EXIT_BUG, EXIT_USAGE, HandoffError
from handoff.redact import RedactingFilter, redact

# name -> "module:attribute". Imported only when the command runs, so `handoff --help`, `--version` and
# each command load only what they use.
COMMANDS: dict[str, str] = {
    "bump": "handoff.cli.bump:bump",
    "plan": "handoff.cli.plan:plan",
    "policy": "handoff.cli.policy:policy",
    "propose": "handoff.cli.propose:propose",
    "promote": "handoff.cli.promote:promote",
    "ci": "handoff.cli.ci:ci",
    "get": "handoff.cli.get:get",
    "reconcile": "handoff.cli.reconcile:reconcile",
    "reconciler": "handoff.cli.reconciler:reconciler",
    "status": "handoff.cli.status:status",
    "validate": "handoff.cli.validate:validate_cmd",
    "wait": "handoff.cli.wait:wait",
}

# name -> the command's short help, so that `handoff --help` lists every command without importing it
# (tests/cli/test_lazy_imports.py keeps each equal to the command's own). A command missing here is
# imported to list it: correct, only slower.
SUMMARIES: dict[str, str] = {
    "bump": "Write IMAGE into every target of the app, byte-exactly.",
    "ci": "Pass handoff results on to a CI system (used by the action and the GitLab component).",
    "get": "Show the reconciler's objects in a cluster.",
    "plan": "Render ENV, check it against the schemas and the policies exactly as the PR check and the "
            "reconciler do, and show each object with its findings.",
    "policy": "List, show and test policies.",
    "promote": "Propose APP's image from --from to --to, as a rolling PR (same rules as propose).",
    "propose": "Propose IMAGE for APP in ENV as a rolling PR/MR (or commit it directly with --mode direct).",
    "reconcile": "Pull, render, validate, server-side apply, prune and revert drift, continuously.",
    "reconciler": "Install the in-cluster reconciler.",
    "status": "Show each app's declared image, applied revision, health and pending promotion per "
              "environment.",
    "validate": "Check every object of the config repo against the Kubernetes and CRD schemas and the "
                "policies, offline and strict: each environment's render with its params (or --env), else "
                "PATHs (manifest dirs, kustomizations, charts) or, with --plain or no .handoff.yaml, the "
                "repo's manifests.",
    "wait": "Wait until ENV reports healthy or failed for a config commit or an image (exit 0, 1; 5 "
            "statuses unreadable; 124 timed out).",
}


VERBOSE_HELP = "More log output on stderr (repeat for debug)."


def _more_verbose(ctx: click.Context, param: click.Parameter, value: int) -> None:
    if value:
        _configure_logging(value + int(ctx.find_root().params.get("verbose") or 0))


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        command = getattr(importlib.import_module(module_name), attr)
        assert isinstance(command, click.Command)
        if not any(param.name == "verbose" for param in command.params):
            # `handoff propose … -vv`, as people type it, means the same as `handoff -vv propose …`.
            command.params.append(click.Option(["-v", "--verbose"], count=True, expose_value=False,
                                               callback=_more_verbose, help=VERBOSE_HELP))
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = [(name, self._listing(ctx, name).get_short_help_str(limit)) for name in names]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def _listing(self, ctx: click.Context, name: str) -> click.Command:
        """The command as --help lists it: a stand-in carrying its summary, or the command itself."""
        if name in SUMMARIES:
            return click.Command(name, help=SUMMARIES[name])
        return self.get_command(ctx, name) or click.Command(name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="handoff")
@click.option("-v", "--verbose", count=True, help=VERBOSE_HELP)
def cli(verbose: int) -> None:
    """handoff: bump, validate, propose, promote and reconcile GitOps config."""
    _configure_logging(verbose)


def _configure_logging(verbose: int) -> None:
    level = logging.WARNING - 10 * min(verbose, 2)
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("handoff")
    root.handlers[:] = [handler]
    root.setLevel(level)


def _write_crash_log() -> Path:
    log_dir = Path(os.environ.get("HANDOFF_LOG_DIR", tempfile.gettempdir()))
    log_dir.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix="handoff-crash-", suffix=".log", dir=log_dir)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(f"handoff {__version__}\npython {sys.version}\nargv {redact(' '.join(sys.argv))}\n\n")
        fh.write(redact(traceback.format_exc()))
    return Path(name)


# Commands whose `--output json` result CI steps read: a usage error is written there too, so the step
# shows the cause instead of failing to parse an empty file.
JSON_RESULT_COMMANDS = ("propose", "promote")


def _json_usage_error(error: click.ClickException, args: Sequence[str]) -> None:
    ctx = getattr(error, "ctx", None)
    name = ctx.command.name if isinstance(ctx, click.Context) else None
    pairs = zip(args, [*args[1:], ""], strict=True)
    wants_json = any(a == "--output=json" or (a == "--output" and b == "json") for a, b in pairs)
    if name in JSON_RESULT_COMMANDS and wants_json:
        # Loaded only on this error path: the command already imported it.
        options = importlib.import_module("handoff.cli.propose_options")
        click.echo(options.failure_json(error.format_message()))


def _terminated(signum: int, _frame: object) -> None:
    # unwinds like Ctrl-C, so every renderer child is killed with us (toolrun kills on any exception)
    raise SystemExit(128 + signum)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code (never raises)."""
    # a cancelled CI job; the reconciler sets its own handler, and only the main thread may set one
    in_main_thread = threading.current_thread() is threading.main_thread()
    if in_main_thread and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _terminated)
    try:
        args = list(argv) if argv is not None else None
        rv = cli.main(args=args, prog_name="handoff", standalone_mode=False)
    except HandoffError as e:
        click.echo(f"handoff: error: {e}", err=True)
        return e.exit_code
    except click.exceptions.Exit as e:
        return int(e.exit_code)
    except click.Abort:
        click.echo("handoff: aborted", err=True)
        return EXIT_USAGE
    except click.ClickException as e:
        click.echo(redact(f"handoff: error: {e.format_message()}"), err=True)
        _json_usage_error(e, args if args is not None else sys.argv[1:])
        return EXIT_USAGE
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else EXIT_BUG
    except Exception as e:  # a bug: say so, keep the traceback out of the user's face
        log = _write_crash_log()
        what = f"{type(e).__name__}: {e}"
        click.echo(redact(f"handoff: unexpected error: {what} (traceback in {log})"), err=True)
        return EXIT_BUG
    return rv if isinstance(rv, int) else 0
