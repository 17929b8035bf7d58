"""The ``.handoff.yaml`` model: apps, environments, targets, policies, waivers and proposal settings.

Validated against the shipped JSON Schema (``handoff/schemas/handoff-config.schema.json``); errors read
``.handoff.yaml:LINE: at apps.web.targets[0].path: message``.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

from handoff.errors import ConfigError, ImageRefError, YamlError
from handoff.imageref import parse as parse_image
from handoff.manifests import schemacheck
from handoff.manifests.bounds import Limits
from handoff.manifests.sensitive import SensitiveField
from handoff.pathsafe import contained

CONFIG_NAME = ".handoff.yaml"
TargetType = Literal["helm", "kustomize", "manifest", "marker"]
RenderType = Literal["plain", "kustomize", "helm"]
# What helm takes as a release name and Kubernetes as a namespace. They reach a renderer's argv, so the
# config schema and the code both hold them to these (a value starting with "-" would be a flag).
HELM_RELEASE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
HELM_RELEASE_MAX = 53
NAMESPACE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
NAMESPACE_MAX = 63


@dataclass(frozen=True)
class RenderSpec:
    type: RenderType
    path: str
    values: tuple[str, ...] = ()
    release: str = ""
    namespace: str = ""


@dataclass(frozen=True)
class Environment:
    name: str
    branch: str | None = None
    render: RenderSpec | None = None
    params: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    promote_only: bool = False


@dataclass(frozen=True)
class Target:
    """Where an app's image is written. ``envs`` is ``None`` for every environment.

    helm uses ``repository``/``tag``/``digest``/``registry`` or ``image`` (key paths); kustomize uses
    ``name`` (the ``images[].name``); manifest uses ``kind``/``name``/``container``; marker only ``path``.
    ``key`` is where the target was declared (``apps.web.targets[0]``) and ``line`` its line.
    """

    type: TargetType
    path: str
    envs: tuple[str, ...] | None = None
    repository: str | None = None
    tag: str | None = None
    digest: str | None = None
    registry: str | None = None
    image: str | None = None
    name: str | None = None
    kind: str | None = None
    container: str | None = None
    volume: str | None = None  # manifest: an image volume (`volumes[name=…].image.reference`)
    document: int | Mapping[str, str] | None = None  # helm: the document of a multi-document file
    format: str = "tag"  # helm: "tag@digest" when the tag key holds both (Bitnami style)
    key: str = ""
    line: int = 0

    def applies_to(self, env: str | None) -> bool:
        return env is None or self.envs is None or env in self.envs


@dataclass(frozen=True)
class App:
    name: str
    image: str | None = None
    targets: tuple[Target, ...] = ()


@dataclass(frozen=True)
class PolicySettings:
    dirs: tuple[str, ...] = ()
    builtin: bool = True
    disable: tuple[str, ...] = ()
    params: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class Waiver:
    policy: str
    match: Mapping[str, str]
    reason: str
    expires: datetime.date | None = None
    line: int = 0


@dataclass(frozen=True)
class ProposeSettings:
    branch: str = "handoff/{env}/{app}"
    base: str | None = None
    labels: tuple[str, ...] = ()
    reviewers: tuple[str, ...] = ()
    title: str = "handoff: {app} {image} in {env}"
    body: str = ""


@dataclass(frozen=True)
class Config:
    path: Path
    apps: Mapping[str, App] = field(default_factory=lambda: MappingProxyType({}))
    environments: Mapping[str, Environment] = field(default_factory=lambda: MappingProxyType({}))
    policies: PolicySettings = field(default_factory=PolicySettings)
    waivers: tuple[Waiver, ...] = ()
    propose: ProposeSettings = field(default_factory=ProposeSettings)
    kubernetes_version: str | None = None
    sensitive: tuple[SensitiveField, ...] = ()  # declared beyond a Secret's data/stringData


def load_config(repo: Path, *, limits: Limits | None = None) -> Config | None:
    """Load and validate ``repo/.handoff.yaml``; ``None`` when the repo has none."""
    path = repo / CONFIG_NAME
    if not path.is_file():
        return None
    # a link to a file outside (a token, say) would be parsed and quoted back in an error message
    contained(repo, path, leaving="the config repo")
    from handoff.manifests import yamlio  # noqa: PLC0415 (ruamel.yaml: only for a repo with a config)

    try:
        _, documents = yamlio.load_file(path, display=CONFIG_NAME, limits=limits)
    except YamlError as e:
        raise ConfigError(e.message, file=e.file, line=e.line) from e
    present = [d for d in documents if d is not None]
    if len(present) > 1:
        raise ConfigError("must hold a single YAML document", file=CONFIG_NAME,
                          line=present[1].start_mark.line + 1)
    root = present[0] if present else None
    data = yamlio.to_data(root) if root is not None else {}
    lines = schemacheck.node_lines(root) if root is not None else {}
    if data is None:
        data = {}
    _validate_schema(data, lines)
    return _build(path, data, lines)


def parse_config_text(text: str, *, path: Path | None = None) -> Config:
    """Validate config text directly (for tools and tests that hold the YAML in memory)."""
    from handoff.manifests import yamlio  # noqa: PLC0415 (see load_config)

    documents = yamlio.compose_all(text, display=CONFIG_NAME, limits=Limits())
    root = next((d for d in documents if d is not None), None)
    data = (yamlio.to_data(root) if root is not None else None) or {}
    lines = schemacheck.node_lines(root) if root is not None else {}
    _validate_schema(data, lines)
    return _build(path or Path(CONFIG_NAME), data, lines)


def _validate_schema(data: Any, lines: Mapping[str, int]) -> None:
    schemacheck.check(data, lines, schema="handoff-config.schema.json", file=CONFIG_NAME)


def _error(message: str, lines: Mapping[str, int], key: str) -> ConfigError:
    return ConfigError(message, file=CONFIG_NAME, line=schemacheck.line_for(lines, key), key=key)


def _envs(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    return (value,) if isinstance(value, str) else tuple(value)


def _document(raw: Any) -> int | Mapping[str, str] | None:
    return raw if raw is None or isinstance(raw, int) else MappingProxyType(dict(raw))


def _build(path: Path, data: Mapping[str, Any], lines: Mapping[str, int]) -> Config:
    environments = {
        name: Environment(
            name=name,
            branch=spec.get("branch"),
            render=_render(spec.get("render"), lines, f"environments.{name}.render"),
            params=MappingProxyType(dict(spec.get("params") or {})),
            promote_only=bool(spec.get("promote_only", False)),
        )
        for name, spec in (data.get("environments") or {}).items()
        for spec in [spec or {}]
    }
    apps: dict[str, App] = {}
    for app_name, app_spec in (data.get("apps") or {}).items():
        spec = app_spec or {}
        image = spec.get("image")
        if image is not None:
            try:
                parse_image(image)
            except ImageRefError as e:
                raise _error(e.message, lines, f"apps.{app_name}.image") from e
        targets = []
        for index, raw in enumerate(spec.get("targets") or []):
            key = f"apps.{app_name}.targets[{index}]"
            envs = _envs(raw.get("env"))
            for env in envs or ():
                if environments and env not in environments:
                    raise _error(f"unknown environment {env!r} (declared: {', '.join(sorted(environments))})",
                                 lines, f"{key}.env")
            targets.append(Target(
                type=raw["type"], path=raw["path"], envs=envs,
                repository=raw.get("repository"), tag=raw.get("tag"), digest=raw.get("digest"),
                registry=raw.get("registry"), image=raw.get("image"), name=raw.get("name"),
                kind=raw.get("kind"), container=raw.get("container"), volume=raw.get("volume"),
                document=_document(raw.get("document")), format=raw.get("format", "tag"),
                key=key, line=schemacheck.line_for(lines, key) or 0,
            ))
        apps[app_name] = App(name=app_name, image=image, targets=tuple(targets))
    policies_raw = data.get("policies") or {}
    policies = PolicySettings(
        dirs=tuple(policies_raw.get("dirs") or ()),
        builtin=bool(policies_raw.get("builtin", True)),
        disable=tuple(policies_raw.get("disable") or ()),
        params=MappingProxyType(dict(policies_raw.get("params") or {})),
    )
    waivers = []
    for index, raw in enumerate(data.get("waivers") or []):
        key = f"waivers[{index}]"
        expires = None
        if raw.get("expires") is not None:
            try:
                expires = datetime.date.fromisoformat(raw["expires"])
            except ValueError as e:
                raise _error(f"not a date: {raw['expires']!r}", lines, f"{key}.expires") from e
        waivers.append(Waiver(policy=raw["policy"], match=MappingProxyType(dict(raw.get("match") or {})),
                              reason=raw["reason"], expires=expires,
                              line=schemacheck.line_for(lines, key) or 0))
    propose_raw = data.get("propose") or {}
    defaults = ProposeSettings()
    propose = ProposeSettings(
        branch=propose_raw.get("branch", defaults.branch),
        base=propose_raw.get("base"),
        labels=tuple(propose_raw.get("labels") or ()),
        reviewers=tuple(propose_raw.get("reviewers") or ()),
        title=propose_raw.get("title", defaults.title),
        body=propose_raw.get("body", defaults.body),
    )
    return Config(
        path=path, apps=MappingProxyType(apps), environments=MappingProxyType(environments),
        policies=policies, waivers=tuple(waivers), propose=propose,
        kubernetes_version=data.get("kubernetes_version"),
        sensitive=tuple(SensitiveField(kind=f["kind"], path=f["path"]) for f in data.get("sensitive") or ()),
    )


def _render(raw: Mapping[str, Any] | None, lines: Mapping[str, int], key: str) -> RenderSpec | None:
    if not raw:
        return None
    release, namespace = raw.get("release", ""), raw.get("namespace", "")
    if release and not (HELM_RELEASE.fullmatch(release) and len(release) <= HELM_RELEASE_MAX):
        raise _error(f"release {release!r} is not a Helm release name (lowercase letters, digits, '-' "
                     f"and '.', at most {HELM_RELEASE_MAX} characters)", lines, f"{key}.release")
    if namespace and not (NAMESPACE.fullmatch(namespace) and len(namespace) <= NAMESPACE_MAX):
        raise _error(f"namespace {namespace!r} is not a namespace name (lowercase letters, digits and '-', "
                     f"at most {NAMESPACE_MAX} characters)", lines, f"{key}.namespace")
    return RenderSpec(type=raw["type"], path=raw["path"], values=tuple(raw.get("values") or ()),
                      release=release, namespace=namespace)
