"""Compose the engines for one run: the built-in pack and policy dirs, params from config, the
environment and flags, then waivers. ``PolicyCheck`` plugs into ``handoff.validate``'s extra checks."""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from handoff import toolrun
from handoff.config import Config, Waiver
from handoff.errors import ConfigError
from handoff.manifests.bounds import DEFAULT_MAX_CHILD_MEMORY
from handoff.manifests.sensitive import KnownValues, held_secret_strings
from handoff.pathsafe import check_tree, resolve_inside
from handoff.policy.loader import PolicySet, load_policy_sets
from handoff.policy.model import PolicyContext, PolicyEngine, PolicyObject
from handoff.policy.params import merge_overrides
from handoff.policy.rego import read_sources
from handoff.policy.sandbox import RepoPolicies, SandboxedEngine
from handoff.policy.waivers import apply_waivers
from handoff.redact import encoded_forms
from handoff.report.model import ValidationReport


@dataclass(frozen=True)
class PolicyOptions:
    dirs: tuple[Path, ...] = ()
    builtin: bool = True
    disable: tuple[str, ...] = ()
    params: Mapping[str, Any] = field(default_factory=dict)
    rego_namespaces: tuple[str, ...] = ("main",)
    waivers: tuple[Waiver, ...] = ()
    config_file: str = ".handoff.yaml"
    env: str = ""
    today: datetime.date | None = None
    # the sandbox child evaluating the non-built-in policies (``handoff.policy.sandbox``)
    max_child_memory: int = DEFAULT_MAX_CHILD_MEMORY
    child_timeout: float = toolrun.DEFAULT_TIMEOUT


def _policy_dir(repo: Path, relative: str, key: str, config_file: str) -> Path:
    """A config-declared policy directory, refused when it or a link under it leaves the repo: the
    repo's author must not have handoff read (and apply, or quote in a parse error) a file outside it.
    Flag-given ``--policy`` dirs are the operator's and are not checked."""
    resolve_inside(repo, relative, source=config_file, key=key)
    check_tree(repo, repo / relative)
    return repo / relative


def options_from_config(
    config: Config | None, repo: Path, *, env: str | None = None, dirs: Sequence[Path] = (),
    builtin: bool = True, params: Mapping[str, Any] | None = None, rego_namespaces: Sequence[str] = ("main",),
    max_child_memory: int = DEFAULT_MAX_CHILD_MEMORY,
) -> PolicyOptions:
    """Config ``policies:``, then the environment's ``params``, then flags (later wins);
    ``max_child_memory`` is the operator's cap on the policy sandbox, never the repo's."""
    if config is None:
        return PolicyOptions(dirs=tuple(dirs), builtin=builtin, params=merge_overrides(params or {}),
                             rego_namespaces=tuple(rego_namespaces), env=env or "",
                             max_child_memory=max_child_memory)
    environment = config.environments.get(env) if env else None
    if env and environment is None:
        raise ConfigError(f"unknown environment {env!r}", file=str(config.path))
    try:
        config_file = str(config.path.relative_to(repo))
    except ValueError:
        config_file = str(config.path)
    return PolicyOptions(
        dirs=tuple(_policy_dir(repo, d, f"policies.dirs[{i}]", config_file)
                   for i, d in enumerate(config.policies.dirs)) + tuple(dirs),
        builtin=builtin and config.policies.builtin,
        disable=tuple(config.policies.disable),
        params=merge_overrides(
            config.policies.params, environment.params if environment else {}, params or {}
        ),
        rego_namespaces=tuple(rego_namespaces),
        waivers=tuple(config.waivers),
        config_file=config_file,
        env=env or "",
        max_child_memory=max_child_memory,
    )


def policy_enabled(config: Config | None, env: str, policy_id: str, *, default: bool = False) -> bool:
    """Whether ``policy_id`` is switched on for ``env`` by the config (``policies.params`` then the
    environment's ``params``), e.g. ``require-image-digest`` for prod only."""
    if config is None or policy_id in config.policies.disable:
        return False
    environment = config.environments.get(env)
    merged = merge_overrides(config.policies.params, environment.params if environment else {})
    return bool(merged.get(f"{policy_id}.enabled", default))


def build_engines(builtin: PolicySet, repo: PolicySet, options: PolicyOptions) -> list[PolicyEngine]:
    """The built-in pack (handoff's own, trusted) in-process; everything from policy dirs (the config
    repo's, ``--policy``) in one sandboxed child (``handoff.policy.sandbox``). A dir policy with a
    built-in id replaces the built-in one, as ``PolicySet.merge`` does."""
    engines: list[PolicyEngine] = []
    replaced = {p.id for p in repo.policies}
    policies = [p for p in builtin.policies if p.id not in options.disable and p.id not in replaced]
    if policies:
        from handoff.policy.cel_engine import CelEngine  # noqa: PLC0415 (the CEL bindings: only with policies)

        engines.append(CelEngine(policies))
    sandboxed = RepoPolicies(
        policies=tuple(p for p in repo.policies if p.id not in options.disable),
        admission=builtin.admission + repo.admission, params=builtin.params + repo.params,
        rego=read_sources(builtin.rego + repo.rego), rego_namespaces=options.rego_namespaces)
    if sandboxed:
        engines.append(SandboxedEngine(sandboxed, max_memory=options.max_child_memory,
                                       timeout=options.child_timeout))
    return engines


class PolicyCheck:
    """Loads and compiles everything once; call it with the rendered objects."""

    def __init__(self, options: PolicyOptions) -> None:
        self.options = options
        builtin = load_policy_sets((), builtin=options.builtin)
        repo = load_policy_sets(options.dirs, builtin=False)
        self.policy_set = builtin.merge(repo)
        self.engines = build_engines(builtin, repo, options)

    @property
    def idle(self) -> bool:
        """Nothing to evaluate or waive: a caller need not keep the objects for this check."""
        return not self.engines and not self.options.waivers

    @property
    def per_object(self) -> bool:
        """Evaluating batches of objects separately gives the same findings in the same order (no
        config waivers, which report expiry once per run; only engines that look at one object)."""
        return not self.options.waivers and all(getattr(e, "per_object", False) for e in self.engines)

    def __call__(self, objects: Sequence[PolicyObject]) -> ValidationReport:
        if self.idle:
            return ValidationReport()  # nothing to evaluate or waive (e.g. --no-builtin, no policy dirs)
        context = PolicyContext(params=self.options.params, env=self.options.env)
        report = ValidationReport()
        for engine in self.engines:
            report = report.merge(engine.evaluate(objects, context))
        waived = apply_waivers(report, objects, self.options.waivers, config_file=self.options.config_file,
                               today=self.options.today)
        return masked(waived, objects)


def masked(report: ValidationReport, objects: Sequence[PolicyObject]) -> ValidationReport:
    """``report`` with every sensitive value of ``objects`` (``manifests.sensitive``: a Secret's
    ``data``/``stringData``, a ``data`` value decoded) masked in its messages and reasons, raw and in every
    form a policy prints with one call (a CEL messageExpression or Rego message of ``base64.encode``,
    ``hex.encode`` …: ``redact.encoded_forms``). The policies come from the repo; their messages go to CI."""
    if not report.findings and not any(o.reason for o in report.objects):
        return report
    secrets = {form: shown for text, shown in held_secret_strings(objects).items()
               for form in encoded_forms(text)}
    if not secrets:
        return report
    known = KnownValues(secrets)  # one pattern for the whole report: building it per message cost seconds

    def scrubbed(text: str) -> str:
        return known.mask(text) if text else text  # what scrub(text, secrets) gives, built once

    return replace(report,
                   findings=tuple(f if (m := scrubbed(f.message)) == f.message else replace(f, message=m)
                                  for f in report.findings),
                   objects=tuple(o if (r := scrubbed(o.reason)) == o.reason else replace(o, reason=r)
                                 for o in report.objects))
