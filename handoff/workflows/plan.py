"""The plan: what one environment of a config repo renders to at one revision, and what schema
validation and policies say about it. The one composition of render → schema → policy: ``handoff
validate``, ``handoff plan``, ``propose``/``promote`` and the reconciler's render step all call it,
with the same options, so what a PR check accepted is what the cluster applies.

The options come from the repo: the config's ``kubernetes_version``, objects without a schema are
findings (as in the PR check), the config's policies and waivers and the environment's ``params``.
``PlanOptions`` carries only what a person asks for on the command line on top of that.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

from handoff.config import Config
from handoff.manifests.model import RenderedObject
from handoff.manifests.plain import objects_from_text
from handoff.manifests.sensitive import rules_for
from handoff.policy.runner import PolicyCheck, options_from_config
from handoff.policy.waivers import EXPIRED_RULE
from handoff.render import RenderResult, check_render_inputs, detect, render_env, render_path, render_paths
from handoff.render.policy import current
from handoff.report.model import Severity, ValidationReport
from handoff.report.rules import RuleDoc
from handoff.validate import SchemaOptions, select_engine, validate
from handoff.validate.crds import check_catalogs
from handoff.validate.parallel import validate_plain_paths, validate_plain_stream
from handoff.validate.stream import STDIN_NAME

T = TypeVar("T", bound=Hashable)


@dataclass(frozen=True)
class PlanOptions:
    """Additions a caller may ask for; the defaults are what CI and the cluster run."""

    kubernetes_version: str | None = None  # None: the config's, else the newest shipped schemas
    strict: bool = True  # False: unknown fields allowed (kubeconform without -strict)
    ignore_missing_schemas: bool = False
    crd_catalogs: tuple[Path, ...] = ()
    engine: str = "auto"
    policy_dirs: tuple[Path, ...] = ()
    builtin: bool = True
    params: Mapping[str, Any] = field(default_factory=dict)
    rego_namespaces: tuple[str, ...] = ("main",)


DEFAULT_OPTIONS = PlanOptions()


@dataclass(frozen=True)
class Plan:
    """One environment (None: paths outside any environment) at one revision, rendered and checked."""

    env: str | None
    revision: str
    rendered: RenderResult
    report: ValidationReport

    @property
    def objects(self) -> tuple[RenderedObject, ...]:
        return self.rendered.objects

    def failed(self, fail_on: Severity = Severity.ERROR) -> bool:
        return self.report.failed(fail_on)


def rendering_envs(config: Config | None) -> tuple[str, ...]:
    """The environments of ``config`` that say how to render them, in declaration order."""
    if config is None:
        return ()
    return tuple(name for name, e in config.environments.items() if e.render is not None)


def plan_env(repo: Path, config: Config, env: str, *, revision: str = "",
             options: PlanOptions = DEFAULT_OPTIONS) -> Plan:
    """Render environment ``env`` of ``config`` in the checkout ``repo`` and check it."""
    policies = _policies(repo, config, env, options)  # before rendering: a bad policy dir fails fast
    rendered = render_env(repo, config, env)
    return _check(config, rendered, policies, env=env, revision=revision, options=options)


def plan_source_path(repo: Path, config: Config | None, path: Path, *, kind: str | None,
                     values: Sequence[Path] = (), release: str = "release", namespace: str = "",
                     env: str | None = None, revision: str = "",
                     options: PlanOptions = DEFAULT_OPTIONS) -> Plan:
    """Render ``path`` (auto-detected unless ``kind``: a reconciler source's own chart or tree) and
    check it with the repo's options, and ``env``'s params when the source names one."""
    policies = _policies(repo, config, env, options)
    rendered = render_path(path, repo=repo, kind=kind, values=values, release=release, namespace=namespace)
    return _check(config, rendered, policies, env=env, revision=revision, options=options)


def plan_envs(repo: Path, config: Config, envs: Iterable[str], *, revision: str = "",
              options: PlanOptions = DEFAULT_OPTIONS) -> tuple[Plan, ...]:
    return tuple(plan_env(repo, config, env, revision=revision, options=options) for env in envs)


def merged_report(plans: Sequence[Plan]) -> ValidationReport:
    """One report for several environments. An expired config waiver is reported by every
    environment's plan; it is kept once, as one run over all environments reported it."""
    report = ValidationReport()
    for plan in plans:
        report = report.merge(plan.report)
    findings = _once(report.findings, lambda f: f.rule == EXPIRED_RULE)
    waivers = _once(report.waivers, lambda w: w.expired)
    return ValidationReport(objects=report.objects, findings=findings, waivers=waivers,
                            environments=report.environments)


def _once(items: Sequence[T], repeated: Callable[[T], bool]) -> tuple[T, ...]:
    """``items`` without the repeats of those for which ``repeated`` holds."""
    seen: set[Any] = set()
    kept = []
    for item in items:
        if repeated(item):
            key = replace(item, environment="")  # type: ignore[type-var]  # the same in every environment
            if key in seen:
                continue
            seen.add(key)
        kept.append(item)
    return tuple(kept)


def validate_paths(repo: Path, config: Config | None, paths: Sequence[Path], *, env: str | None = None,
                   jobs: int | None = None, options: PlanOptions = DEFAULT_OPTIONS) -> ValidationReport:
    """Validate PATHs as what they are on their own (plain manifests, a kustomization, a chart),
    with the repo's options; big plain trees are parsed and checked by worker processes."""
    policies = _policies(repo, config, env, options)
    schema = _schema_options(config, options)
    plain = all(detect(p) == "plain" for p in paths)
    if (policies.idle or policies.per_object) and plain and select_engine(options.engine).name == "builtin":
        for path in paths:  # the workers read the files directly: check them here, once
            check_render_inputs(path, repo=repo, kind="plain")
        # workers parse, check schemas and policies, and send back only verdicts and findings
        return validate_plain_paths(paths, repo=repo, options=schema, jobs=jobs,
                                    per_object_check=None if policies.idle else policies)
    return validate(render_paths(list(paths), repo=repo), schema_options=schema, engine=options.engine,
                    extra_checks=[policies])


def validate_stream(repo: Path, config: Config | None, text: str, *, name: str = STDIN_NAME,
                    env: str | None = None, jobs: int | None = None,
                    options: PlanOptions = DEFAULT_OPTIONS) -> ValidationReport:
    """Validate one manifest stream (``handoff validate -``) as plain manifests, with the repo's
    options; a big stream is cut at document markers and checked by worker processes."""
    policies = _policies(repo, config, env, options)
    schema = _schema_options(config, options)
    if (policies.idle or policies.per_object) and select_engine(options.engine).name == "builtin":
        return validate_plain_stream(text, name, options=schema, jobs=jobs,
                                     per_object_check=None if policies.idle else policies)
    return validate(objects_from_text(text, name), schema_options=schema, engine=options.engine,
                    extra_checks=[policies])


def _policies(repo: Path, config: Config | None, env: str | None, options: PlanOptions) -> PolicyCheck:
    return PolicyCheck(options_from_config(
        config, repo, env=env, dirs=options.policy_dirs, builtin=options.builtin, params=options.params,
        rego_namespaces=options.rego_namespaces, max_child_memory=current().limits.max_child_memory,
    ))


def _schema_options(config: Config | None, options: PlanOptions) -> SchemaOptions:
    check_catalogs(options.crd_catalogs)
    return SchemaOptions(
        kubernetes_version=options.kubernetes_version or (config.kubernetes_version if config else None),
        strict=options.strict,
        ignore_missing_schemas=options.ignore_missing_schemas,
        crd_catalogs=options.crd_catalogs,
        sensitive=rules_for(config.sensitive if config else ()),
    )


def _check(config: Config | None, rendered: RenderResult, policies: PolicyCheck, *, env: str | None,
           revision: str, options: PlanOptions) -> Plan:
    report = validate(rendered, schema_options=_schema_options(config, options), engine=options.engine,
                      extra_checks=[policies])
    if env is not None:
        report = report.for_environment(env, policies.options.params)
    return Plan(env=env, revision=revision, rendered=rendered, report=report)


def policy_docs(repo: Path, config: Config | None, env: str | None,
                options: PlanOptions = DEFAULT_OPTIONS) -> dict[str, RuleDoc]:
    """The description and help link of every policy a plan of ``env`` runs (for SARIF rules)."""
    from handoff.policy.pack import rule_docs  # noqa: PLC0415 (the policy file reader: SARIF only)

    return rule_docs(_policies(repo, config, env, options).policy_set.policies)
