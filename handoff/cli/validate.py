"""``handoff validate``: render PATHs (or an environment) and check every object; a thin shell over
``handoff.render`` and ``handoff.validate``."""

from __future__ import annotations

import gc
import os
import sys
import tempfile
from pathlib import Path

import click

from handoff.cli.policy import policy_check, policy_options
from handoff.config import Config, load_config
from handoff.errors import EXIT_FAILED, EXIT_OK, ConfigError, UsageError
from handoff.render import RenderResult, detect, render_env, render_paths
from handoff.render.plain import combine, objects_from_text
from handoff.report.model import Severity, ValidationReport
from handoff.report.writers import WRITERS, WriterOptions
from handoff.validate import ExtraCheck, SchemaOptions, select_engine, validate
from handoff.validate.parallel import validate_plain_paths, validate_stream
from handoff.validate.stream import STDIN, STDIN_NAME, read_stream


def render_targets(repo: Path, config: Config | None, paths: tuple[Path, ...],
                   env: str | None) -> RenderResult:
    if env is not None:
        if paths:
            raise UsageError("give PATHs or --env, not both")
        if config is None:
            raise ConfigError(f"--env {env} needs a .handoff.yaml in {repo}")
        return render_env(repo, config, env)
    if paths:
        return render_paths(list(paths), repo=repo)
    if config is not None and any(e.render for e in config.environments.values()):
        return combine(render_env(repo, config, name) for name, e in config.environments.items() if e.render)
    return render_paths([repo], repo=repo)


def plain_targets(repo: Path, config: Config | None, paths: tuple[Path, ...],
                  env: str | None) -> tuple[Path, ...]:
    """The paths ``render_targets`` would render, when all are plain manifest trees; else ()."""
    if env is not None:
        return ()
    if not paths and config is not None and any(e.render for e in config.environments.values()):
        return ()
    targets = paths or (repo,)
    return targets if all(detect(p) == "plain" for p in targets) else ()


def stdin_text(paths: tuple[Path, ...], env: str | None) -> str | None:
    """The stream on stdin for ``handoff validate -`` (named ``stdin``); None when no PATH is ``-``."""
    if Path(STDIN) not in paths:
        return None
    if len(paths) > 1 or env is not None:
        raise UsageError("'-' (stdin) must be the only PATH, without --env")
    return read_stream(sys.stdin.buffer)


def write_output(text: str, output_file: Path | None) -> None:
    if output_file is None:
        click.echo(text, nl=False)
        return
    output_file.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{output_file.name}.", dir=output_file.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    Path(tmp).replace(output_file)


def report_exit_code(report: ValidationReport, fail_on: str) -> int:
    return EXIT_FAILED if report.failed(Severity.parse(fail_on)) else EXIT_OK


@click.command("validate")  # registered in handoff.cli.COMMANDS as "validate"
@click.argument("paths", nargs=-1, type=click.Path(exists=True, allow_dash=True, path_type=Path))
@click.option("--env", help="Validate what this environment of .handoff.yaml renders.")
@click.option("--config-repo", type=click.Path(exists=True, file_okay=False, path_type=Path), default=".",
              show_default=True, help="The config repo root (file names are reported relative to it).")
@click.option("--kubernetes-version", help="Kubernetes version of the schemas (default: newest shipped).")
@click.option("--engine", type=click.Choice(["auto", "builtin", "kubeconform"]), default="auto",
              show_default=True, help="Schema engine.")
@click.option("--output", "output_format", type=click.Choice(sorted(WRITERS)), default="text",
              show_default=True, help="Report format.")
@click.option("--output-file", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the report here instead of stdout.")
@click.option("--fail-on", type=click.Choice(["error", "warning", "info"]), default="error",
              show_default=True, help="Exit 1 when a finding has at least this severity.")
@click.option("--strict/--no-strict", default=True, show_default=True,
              help="Unknown fields are errors (kubeconform -strict). --no-strict allows them, as kubeconform "
                   "does without -strict.")
@click.option("--ignore-missing-schemas", is_flag=True,
              help="Skip objects with no schema instead of failing.")
@click.option("--crd-catalog", "crd_catalogs", multiple=True,
              type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Directory of CRD schemas in the CRDs-catalog layout {group}/{kind}_{version}.json.")
@click.option("--jobs", type=click.IntRange(min=0), default=None,
              help="Processes that parse and schema-check big plain trees (default: $HANDOFF_PARSE_WORKERS, "
                   "else 0 = auto: one per core for 400+ files of plain manifests).")
@policy_options
def validate_cmd(*, paths: tuple[Path, ...], env: str | None, config_repo: Path,
                     kubernetes_version: str | None, engine: str, output_format: str,
                     output_file: Path | None, fail_on: str, strict: bool, ignore_missing_schemas: bool,
                     crd_catalogs: tuple[Path, ...], jobs: int | None, policy_dirs: tuple[Path, ...],
                     no_builtin: bool, policy_params: tuple[str, ...],
                     rego_namespaces: tuple[str, ...]) -> int:
    """Render PATHs (manifest dirs, kustomizations, charts) or --env and check every object
    against the Kubernetes and CRD schemas, offline and strict (--no-strict allows unknown fields).
    PATH ``-`` reads one manifest stream from stdin, reported as ``stdin``."""
    config = load_config(config_repo)
    options = SchemaOptions(
        kubernetes_version=kubernetes_version or (config.kubernetes_version if config else None),
        strict=strict,
        ignore_missing_schemas=ignore_missing_schemas,
        crd_catalogs=crd_catalogs,
    )
    policies = policy_check(config, config_repo, env=env, dirs=policy_dirs, no_builtin=no_builtin,
                            params=policy_params, rego_namespaces=rego_namespaces)
    stream = stdin_text(paths, env)
    plain = plain_targets(config_repo, config, paths, env) if stream is None else ()
    batched = (policies.idle or policies.per_object) and select_engine(engine).name == "builtin"
    if batched and stream is not None:
        # a big stream is cut at document markers and checked by workers, like a big tree
        report = validate_stream(stream, STDIN_NAME, options=options, jobs=jobs,
                                 per_object_check=None if policies.idle else policies)
    elif batched and plain:
        # workers parse, check schemas and policies, and send back only verdicts and findings
        report = validate_plain_paths(plain, repo=config_repo, options=options, jobs=jobs,
                                      per_object_check=None if policies.idle else policies)
    else:
        rendered = objects_from_text(stream, STDIN_NAME) if stream is not None \
            else render_targets(config_repo, config, paths, env)
        gc.freeze()  # the rendered objects live until exit: spare the cyclic collector re-walking them
        extra_checks: list[ExtraCheck] = [policies]
        report = validate(rendered, schema_options=options, engine=engine, extra_checks=extra_checks)
    color = output_format == "text" and output_file is None and sys.stdout.isatty() \
        and "NO_COLOR" not in os.environ
    write_output(WRITERS[output_format](report, WriterOptions(color=color)), output_file)
    return report_exit_code(report, fail_on)

