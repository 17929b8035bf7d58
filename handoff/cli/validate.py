"""``handoff validate``: in a config repo, check what every environment (or ``--env``) renders,
through the plan CI and the cluster share; PATHs (or ``--plain``) are checked as what they are on their
own. A thin shell over ``handoff.workflows.plan``."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import click

from handoff.cli.policy import policy_options
from handoff.cli.render_options import render_options
from handoff.config import CONFIG_NAME, Config, load_config
from handoff.errors import EXIT_FAILED, EXIT_OK, ConfigError, UsageError
from handoff.manifests.plain import gc_paused
from handoff.policy.params import parse_param_flags
from handoff.report.model import Severity, ValidationReport
from handoff.report.writers import WRITERS, WriterOptions
from handoff.validate.stream import STDIN, read_stream
from handoff.workflows.plan import (
    PlanOptions,
    merged_report,
    plan_envs,
    policy_docs,
    rendering_envs,
    validate_paths,
    validate_stream,
)


def config_root(config_repo: Path, paths: tuple[Path, ...], *,
                explicit_repo: bool) -> tuple[Path, tuple[Path, ...]]:
    """The repo root and the PATHs left once a PATH that is the repo root is taken as "the repo"
    (``handoff validate .``, the CI surfaces' form, means what ``handoff validate`` means)."""
    if not explicit_repo and len(paths) == 1 and paths[0].is_dir() and (paths[0] / CONFIG_NAME).is_file():
        return paths[0], ()
    root = config_repo.resolve()
    return config_repo, tuple(p for p in paths if p.resolve() != root)


def validation_report(repo: Path, config: Config | None, paths: tuple[Path, ...], *, env: str | None,
                      plain: bool, jobs: int | None, options: PlanOptions) -> ValidationReport:
    envs = rendering_envs(config)
    if env is not None:
        if paths or plain:
            raise UsageError("give PATHs (or --plain) or --env, not both")
        if config is None:
            raise ConfigError(f"--env {env} needs a .handoff.yaml in {repo}")
        envs = (env,)
    if config is not None and envs and not paths and not plain:
        with gc_paused():  # the rendered objects live until exit: spare the cyclic collector re-walking them
            return merged_report(plan_envs(repo, config, envs, options=options))
    return validate_paths(repo, config, paths or (repo,), jobs=jobs, options=options)


def stdin_text(paths: tuple[Path, ...], env: str | None, plain: bool) -> str | None:
    """The stream on stdin for ``handoff validate -`` (reported as ``stdin``); None when no PATH is ``-``."""
    if Path(STDIN) not in paths:
        return None
    if len(paths) > 1 or env is not None or plain:
        raise UsageError("'-' (stdin) must be the only PATH, without --env or --plain")
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
@click.option("--env", help="Validate only what this environment of .handoff.yaml renders.")
@click.option("--plain", is_flag=True,
              help="Check PATHs (default: the repo) as files on their own, not the environments' renders.")
@click.option("--config-repo", type=click.Path(exists=True, file_okay=False, path_type=Path), default=".",
              show_default=True, help="The config repo root (file names are reported relative to it).")
@click.option("--kubernetes-version",
              help="Kubernetes version of the schemas (default: the config's, else the newest shipped).")
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
@click.pass_context
@render_options
def validate_cmd(ctx: click.Context, *, paths: tuple[Path, ...], env: str | None, plain: bool,
                 config_repo: Path, kubernetes_version: str | None, engine: str, output_format: str,
                 output_file: Path | None, fail_on: str, strict: bool, ignore_missing_schemas: bool,
                 crd_catalogs: tuple[Path, ...], jobs: int | None, policy_dirs: tuple[Path, ...],
                 no_builtin: bool, policy_params: tuple[str, ...],
                 rego_namespaces: tuple[str, ...]) -> int:
    """Check every object of the config repo against the Kubernetes and CRD schemas and the policies,
    offline and strict: each environment's render with its params (or --env), else PATHs (manifest
    dirs, kustomizations, charts) or, with --plain or no .handoff.yaml, the repo's manifests. PATH ``-``
    reads one manifest stream from stdin, reported as ``stdin``. Strict (unknown fields are errors)
    unless --no-strict."""
    stream = stdin_text(paths, env, plain)
    explicit = ctx.get_parameter_source("config_repo") is not click.core.ParameterSource.DEFAULT
    repo, rest = config_root(config_repo, paths if stream is None else (), explicit_repo=explicit)
    if plain and paths and not rest:
        rest = (repo,)
    config = load_config(repo)
    options = PlanOptions(
        kubernetes_version=kubernetes_version, strict=strict, ignore_missing_schemas=ignore_missing_schemas,
        crd_catalogs=crd_catalogs, engine=engine, policy_dirs=policy_dirs, builtin=not no_builtin,
        params=parse_param_flags(policy_params), rego_namespaces=rego_namespaces,
    )
    report = validate_stream(repo, config, stream, jobs=jobs, options=options) if stream is not None \
        else validation_report(repo, config, rest, env=env, plain=plain, jobs=jobs, options=options)
    color = output_format == "text" and output_file is None and sys.stdout.isatty() \
        and "NO_COLOR" not in os.environ
    rules = policy_docs(repo, config, env, options) if output_format == "sarif" else {}
    writer_options = WriterOptions(color=color, rules=rules)
    write_output(WRITERS[output_format](report, writer_options), output_file)
    return report_exit_code(report, fail_on)
