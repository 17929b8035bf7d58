"""Reconciler settings: one or more sources, read from flags or a YAML file (a mounted ConfigMap)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from handoff.errors import ConfigError, YamlError
from handoff.manifests import schemacheck, yamlio
from handoff.manifests.sensitive import SensitiveField

SCHEMA = "reconciler-config.schema.json"

_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h)?$")
# "env": render what the .handoff.yaml environment `env` declares, exactly as `handoff validate --env` does.
RENDERERS = ("auto", "plain", "kustomize", "helm", "env")
DRIFT_MODES = ("revert", "warn")


@dataclass(frozen=True)
class Credentials:
    """Git credentials read from files (a mounted Secret); never from argv or URLs."""

    token_file: str | None = None
    username: str = "git"
    ssh_key_file: str | None = None
    known_hosts_file: str | None = None


@dataclass(frozen=True)
class Verification:
    """Commit-signature verification: ``gpg`` with a keyring dir, or ``ssh`` with an allowed signers file."""

    mode: str = "none"  # none | gpg | ssh
    keyring: str | None = None
    allowed_signers: str | None = None


@dataclass(frozen=True)
class Source:
    name: str
    url: str
    revision: str = "main"
    path: str = "."
    renderer: str = "auto"
    namespace: str = "default"
    interval: float = 60.0
    prune: bool = True
    self_heal: bool = True
    drift_mode: str = "revert"
    env: str | None = None  # the .handoff.yaml environment whose policy params and waivers apply
    values: tuple[str, ...] = ()  # Helm values files, relative to the repository
    release: str = "release"  # Helm release name
    credentials: Credentials = field(default_factory=Credentials)
    verify: Verification = field(default_factory=Verification)

    def __post_init__(self) -> None:
        # checked before any of them reaches `git` (option injection, tokens in URLs) or the renderer
        if _USERINFO.match(self.url):
            raise ConfigError("the git url must not hold credentials (use a token file)", key="url")
        if self.url.startswith("-") or _BAD_TRANSPORT.match(self.url):
            raise ConfigError(f"refusing git url {self.url!r}", key="url")
        if not _REVISION.match(self.revision) or ".." in self.revision or self.revision.endswith(".lock"):
            raise ConfigError(f"invalid revision {self.revision!r}", key="revision")
        if self.path.startswith(("/", "~")) or ".." in Path(self.path).parts:
            raise ConfigError(f"path {self.path!r} must stay inside the repository", key="path")
        if not _NAME.match(self.namespace):
            raise ConfigError(f"namespace {self.namespace!r} is not a DNS label", key="namespace")
        if self.renderer == "env" and not self.env:
            raise ConfigError("renderer env needs env: the .handoff.yaml environment to render", key="env")
        for values in self.values:
            if values.startswith(("/", "~")) or ".." in Path(values).parts:
                raise ConfigError(f"values file {values!r} must stay inside the repository", key="values")


_USERINFO = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://[^/@]*@")
_BAD_TRANSPORT = re.compile(r"^(ext|fd)::", re.IGNORECASE)
_REVISION = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._/-]*$")


@dataclass(frozen=True)
class PruneSettings:
    """Guards against mass deletion: refuse a pass deleting more than ``max_fraction`` of an
    inventory of at least ``min_inventory`` objects; never Namespaces/CRDs unless allowed."""

    max_fraction: float = 0.5
    min_inventory: int = 10
    allow_namespaces: bool = False
    allow_crds: bool = False


@dataclass(frozen=True)
class Settings:
    sources: tuple[Source, ...]
    namespace: str = "handoff-system"
    prune: PruneSettings = field(default_factory=PruneSettings)
    leader_election: bool = True
    lease_name: str = "handoff-reconciler"
    shards: int = 1
    shard: int = 0
    metrics_addr: str = ":8080"
    sensitive: tuple[SensitiveField, ...] = ()  # masked beyond a Secret's data/stringData


def parse_duration(text: str | float | int, *, key: str = "interval", file: str | None = None) -> float:
    if isinstance(text, int | float) and not isinstance(text, bool):
        return float(text)
    m = _DURATION.match(str(text).strip())
    if not m:
        raise ConfigError(f"invalid duration {text!r} (use e.g. 30s, 5m, 1h)", file=file, key=key)
    factor = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, None: 1}[m.group(2)]
    return float(m.group(1)) * factor


def _line_of(node: Any, key: str) -> int | None:
    return yamlio.line_of(node, key) if isinstance(node, yamlio.LocatedMap) else None


def _source(raw: Any, index: int, file: str, defaults: Mapping[str, Any]) -> Source:
    # the shipped schema has checked keys and types; what is left are the checks across fields
    where = f"sources[{index}]"

    def fail(key: str, message: str) -> ConfigError:
        return ConfigError(message, file=file, line=_line_of(raw, key), key=f"{where}.{key}")

    name = str(raw.get("name", ""))
    if not _NAME.match(name) or len(name) > 40:
        raise fail("name", f"source name {name!r} must be a DNS label of at most 40 characters")
    url = str(raw.get("url", ""))
    if not url:
        raise fail("url", "missing git url")
    refs = [k for k in ("branch", "tag", "commit", "revision") if raw.get(k)]
    if len(refs) > 1:
        raise fail(refs[1], f"give only one of branch, tag, commit (got {', '.join(refs)})")
    revision = str(raw[refs[0]]) if refs else "main"
    renderer = str(raw.get("renderer", "auto"))
    if renderer not in RENDERERS:
        raise fail("renderer", f"unknown renderer {renderer!r} (choose one of {', '.join(RENDERERS)})")
    drift = str(raw.get("drift", "revert"))
    if drift not in DRIFT_MODES:
        raise fail("drift", f"unknown drift mode {drift!r} (choose revert or warn)")
    creds = raw.get("credentials") or {}
    verify = raw.get("verify") or {}
    if not isinstance(creds, Mapping) or not isinstance(verify, Mapping):
        raise fail("credentials", "credentials and verify must be mappings")
    values = raw.get("values") or []
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise fail("values", "values must be a list of file paths")
    mode = str(verify.get("mode", "none"))
    if mode not in ("none", "gpg", "ssh"):
        raise fail("verify", f"unknown verify mode {mode!r} (choose none, gpg or ssh)")
    return Source(
        name=name, url=url, revision=revision, path=str(raw.get("path", ".")), renderer=renderer,
        namespace=str(raw.get("namespace", defaults.get("namespace", "default"))),
        interval=parse_duration(raw.get("interval", defaults.get("interval", 60)), key=f"{where}.interval",
                                file=file),
        prune=bool(raw.get("prune", True)), self_heal=bool(raw.get("selfHeal", True)), drift_mode=drift,
        env=str(raw["env"]) if raw.get("env") else None,
        values=tuple(values), release=str(raw.get("release", "release")),
        credentials=Credentials(
            token_file=creds.get("tokenFile"), username=str(creds.get("username", "git")),
            ssh_key_file=creds.get("sshKeyFile"), known_hosts_file=creds.get("knownHostsFile")),
        verify=Verification(mode=mode, keyring=verify.get("keyring"),
                            allowed_signers=verify.get("allowedSigners")),
    )


def _checked_source(raw: Any, index: int, file: str, defaults: Mapping[str, Any]) -> Source:
    try:
        return _source(raw, index, file, defaults)
    except ConfigError as e:
        if e.file:
            raise
        key = str(e.key)  # Source's own checks know the key, not the file
        line = _line_of(raw, key) if isinstance(raw, Mapping) else None
        raise ConfigError(e.message, file=file, line=line, key=f"sources[{index}].{key}") from e


def load_settings(path: Path) -> Settings:
    """Read a reconciler config file, checked by the shipped JSON Schema; errors name file, line and key."""
    file = str(path)
    try:
        _, documents = yamlio.load_file(path, display=file)  # bounds: alias bombs, depth, duplicate keys
    except YamlError as e:
        raise ConfigError(e.message, file=file, line=e.line) from e
    root = next((d for d in documents if d is not None), None)
    doc = yamlio.to_located(root)
    lines = schemacheck.node_lines(root) if root is not None else {}
    schemacheck.check(doc, lines, schema=SCHEMA, file=file, unknown_at_key=True)
    if not isinstance(doc, Mapping):  # pragma: no cover - the schema requires a mapping
        raise ConfigError("the reconciler config must be a mapping", file=file)
    raw_sources = doc.get("sources")
    if not isinstance(raw_sources, list) or not raw_sources:
        raise ConfigError("at least one source is required", file=file, line=_line_of(doc, "sources"),
                          key="sources")
    defaults = doc.get("defaults") or {}
    sources = tuple(_checked_source(s, i, file, defaults) for i, s in enumerate(raw_sources))
    names = [s.name for s in sources]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError(f"duplicate source names: {', '.join(dupes)}", file=file, key="sources")
    prune_raw = doc.get("prune") or {}
    prune = PruneSettings(
        max_fraction=float(prune_raw.get("maxFraction", 0.5)),
        min_inventory=int(prune_raw.get("minInventory", 10)),
        allow_namespaces=bool(prune_raw.get("namespaces", False)),
        allow_crds=bool(prune_raw.get("crds", False)),
    )
    sharding = doc.get("sharding") or {}
    return Settings(
        sources=sources, namespace=str(doc.get("namespace", "handoff-system")), prune=prune,
        leader_election=bool(doc.get("leaderElection", True)),
        lease_name=str(doc.get("leaseName", "handoff-reconciler")),
        shards=int(sharding.get("shards", 1)), shard=int(sharding.get("shard", 0)),
        metrics_addr=str(doc.get("metricsAddr", ":8080")),
        sensitive=tuple(SensitiveField(kind=str(f["kind"]), path=str(f["path"]))
                        for f in doc.get("sensitive") or ()),
    )


def with_overrides(settings: Settings, **changes: Any) -> Settings:
    return replace(settings, **changes)
