"""Reconciler settings: one or more sources, read from flags or a YAML file (a mounted ConfigMap)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from handoff.commitstatus.gitlab import MAX_TARGET_URL as GITLAB_MAX_TARGET_URL
from handoff.config import Waiver
from handoff.errors import ConfigError, HandoffError, UsageError, YamlError
from handoff.manifests import schemacheck, yamlio
from handoff.manifests.bounds import RenderLimits
from handoff.manifests.sensitive import SensitiveField
from handoff.reconciler.metrics import parse_addr
from handoff.render.policy import RenderPolicy, checked_remotes

SCHEMA = "reconciler-config.schema.json"

_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
# a Lease name and a Helm release name: lowercase RFC 1123 subdomains
_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h)?$")
# A pass every 100ms at the most often (0 would spin on the git server), every 30 days at the least
# (past that a wait overflows the clock, and it is surely a typo).
MIN_INTERVAL, MAX_INTERVAL = 0.1, 30 * 24 * 3600.0
# git URLs the reconciler fetches: a URL with one of these schemes, or scp-like ``user@host:path``
_GIT_URL = re.compile(r"^((https?|ssh|git|file)://[^\s]+|[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^\s]+)$")
_HELM_RELEASE_MAX = 53
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
class Authority:
    """What a source may touch (``authority:``), globs allowed. Namespaced objects: in ``namespaces``
    and not in ``deniedNamespaces``, of a kind in ``kinds``; cluster-scoped ones only of a kind in
    ``clusterKinds``; nothing of ``deniedKinds``. Kinds are ``Kind`` or ``group/Kind``.
    ``namespaceMetadata``: the label and annotation keys (globs) a Namespace object may set; a Pod Security
    key (``pod-security.kubernetes.io/...``) only by a pattern that spells that prefix out.
    ``other_tenants``: the tenants' namespace globs (from a tenants file, never written by hand): a
    namespace one matches is another tenant's, denied, unless it is ``tenant`` (the grant's own).
    ``allowMutatingPods``: the source's granted mutating admission objects may pick pods and pod-bearing
    resources, which waives the floor and the identity guard for its pods (``guard.why_mutating_pods``).
    ``adopt``: the source may take over objects the cluster already has that no source created (marked
    adopted, never pruned: :mod:`handoff.reconciler.adoption`)."""

    namespaces: tuple[str, ...] = ("*",)
    denied_namespaces: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ("*",)
    denied_kinds: tuple[str, ...] = ()
    cluster_kinds: tuple[str, ...] = ()
    namespace_metadata: tuple[str, ...] = ("*",)
    other_tenants: tuple[str, ...] = ()
    tenant: str = ""
    allow_mutating_pods: bool = False
    adopt: bool = False


@dataclass(frozen=True)
class Tenant:
    namespaces: tuple[str, ...]  # which Source namespaces this grant is for (globs)
    authority: Authority
    # the ServiceAccount (in the Source's namespace) a Source naming none impersonates, as Flux's
    # --default-service-account: a Source created from inside the namespace never acts as the reconciler
    default_service_account: str | None = None


def parse_tenants(raw: Any, *, file: str | None = None) -> tuple[Tenant, ...]:
    """``tenants: [{namespaces: [...], defaultServiceAccount: NAME, authority: {namespaces,
    deniedNamespaces, kinds, deniedKinds, clusterKinds, namespaceMetadata, allowMutatingPods, adopt}}]``."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ConfigError("tenants must be a list", file=file, key="tenants")
    out = []
    for i, item in enumerate(raw):
        key = f"tenants[{i}]"
        if not isinstance(item, Mapping) or not isinstance(item.get("namespaces"), list):
            raise ConfigError("a tenant needs namespaces: a list of namespace globs", file=file, key=key)
        grant = item.get("authority") or {}
        if not isinstance(grant, Mapping):
            raise ConfigError("authority must be a mapping", file=file, key=f"{key}.authority")
        account = item.get("defaultServiceAccount")
        if account is not None and not (isinstance(account, str) and _SUBDOMAIN.match(account)
                                        and len(account) <= 253):
            raise ConfigError(f"defaultServiceAccount {account!r} is not a ServiceAccount name", file=file,
                              key=f"{key}.defaultServiceAccount")
        out.append(Tenant(namespaces=tuple(str(n) for n in item["namespaces"]),
                          authority=_authority(grant, namespaces=("{namespace}",)),
                          default_service_account=account))
    return tuple(out)


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
    authority: Authority | None = None  # None: the default grant (authority.grant_of)
    # create the target namespace when missing and the grant covers it (as Argo CD's CreateNamespace=true)
    create_namespace: bool = False
    service_account: str | None = None  # NAME or NS/NAME: the source's API calls impersonate it
    # NS/NAME of each Secret its spec reads (a Source object's secretRef, verify.secretRef): the
    # reconciler's own objects (guard.configuration_secrets), so no revision changes how it is fetched
    secrets: tuple[str, ...] = ()
    # the operator's, never the repository's: pinned remotes kustomize may fetch, and the render caps
    allow_remote: frozenset[str] = frozenset()
    render_limits: RenderLimits = field(default_factory=RenderLimits.from_env)

    @property
    def render_policy(self) -> RenderPolicy:
        return RenderPolicy(limits=self.render_limits, allowed_remotes=self.allow_remote)

    def __post_init__(self) -> None:
        # checked before any of them reaches `git` (option injection, tokens in URLs) or the renderer
        if _USERINFO.match(self.url):
            raise ConfigError("the git url must not hold credentials (use a token file)", key="url")
        if self.url.startswith("-") or _BAD_TRANSPORT.match(self.url):
            raise ConfigError(f"refusing git url {self.url!r}", key="url")
        if not _GIT_URL.match(self.url):
            raise ConfigError(f"git url {self.url!r} is not an https://, http://, ssh://, git:// or "
                              "file:// URL nor user@host:path", key="url")
        if not _REVISION.match(self.revision) or ".." in self.revision or self.revision.endswith(".lock"):
            raise ConfigError(f"invalid revision {self.revision!r}", key="revision")
        if self.path.startswith(("/", "~")) or ".." in Path(self.path).parts:
            raise ConfigError(f"path {self.path!r} must stay inside the repository", key="path")
        if not _NAME.match(self.namespace):
            raise ConfigError(f"namespace {self.namespace!r} is not a DNS label", key="namespace")
        if self.renderer == "env" and not self.env:
            raise ConfigError("renderer env needs env: the .handoff.yaml environment to render", key="env")
        if not _SUBDOMAIN.match(self.release) or len(self.release) > _HELM_RELEASE_MAX:
            raise ConfigError(f"release {self.release!r} is not a Helm release name (lowercase letters, "
                              f"digits, '-' and '.', at most {_HELM_RELEASE_MAX} characters)", key="release")
        for values in self.values:
            if values.startswith(("/", "~")) or ".." in Path(values).parts:
                raise ConfigError(f"values file {values!r} must stay inside the repository", key="values")


# credentials in a URL; an ssh:// user name alone (ssh://git@host/repo, as git@host:repo) is none
_USERINFO = re.compile(r"^(?!ssh://[A-Za-z0-9_][A-Za-z0-9._~-]*@)[a-zA-Z][a-zA-Z0-9+.-]*://[^/@]*@")
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
class PolicyFloor:
    """``policyFloor:``: policies that run on every revision whatever its ``.handoff.yaml`` says, and the
    only waivers a repo may use against them. From the reconciler's config, never from the repo."""

    builtin: bool = True  # the built-in pack runs on every revision
    policies: tuple[str, ...] = ("*",)  # which built-in policies form the floor ("*": all of them)
    waivers: tuple[Waiver, ...] = ()


@dataclass(frozen=True)
class StatusSettings:
    """``status:``: where the reconciler reports each applied revision's outcome (a commit status on the
    config repo's commit). ``token_file`` is a mounted Secret holding a statuses-only token; the local
    backend pushes a git notes ref to ``url`` (default: each source's own url) with it."""

    kind: str  # github | gitlab | local
    api_url: str | None = None
    project: str = ""
    token_file: str | None = None
    username: str = "handoff-status"
    url: str | None = None
    context: str = "handoff/{env}"  # {env}: the source's env, else its name; {source}: its name
    target_url: str = ""
    key_file: str | None = None  # local: the key each status entry is signed with (commitstatus.signing)


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
    policy_floor: PolicyFloor = field(default_factory=PolicyFloor)
    sensitive: tuple[SensitiveField, ...] = ()  # masked beyond a Secret's data/stringData
    status: StatusSettings | None = None  # None: no commit statuses
    tenants: tuple[Tenant, ...] = ()  # what Source objects in each namespace may touch (``tenants:``)


def parse_duration(text: str | float | int, *, key: str = "interval", file: str | None = None) -> float:
    """Seconds from ``30s``, ``5m``, ``1h``, ``500ms`` or a number, between MIN_INTERVAL and MAX_INTERVAL."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        seconds = float(text)
    else:
        m = _DURATION.match(str(text).strip())
        if not m:
            raise ConfigError(f"invalid duration {text!r} (use e.g. 30s, 5m, 1h)", file=file, key=key)
        factor = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, None: 1}[m.group(2)]
        seconds = float(m.group(1)) * factor
    if not (math.isfinite(seconds) and MIN_INTERVAL <= seconds <= MAX_INTERVAL):
        shown = str(text) if len(str(text)) <= 40 else str(text)[:40] + "…"
        raise ConfigError(f"duration {shown} is outside 100ms to 30 days", file=file, key=key)
    return seconds


def _line_of(node: Any, key: str) -> int | None:
    return yamlio.line_of(node, key) if isinstance(node, yamlio.LocatedMap) else None


_RENDER_KEYS = {"maxOutputBytes": "max_output_bytes", "maxObjects": "max_objects",
                "maxTotalBytes": "max_total_bytes", "maxNodes": "max_nodes",
                "maxChildMemory": "max_child_memory"}


def _render_limits(raw: Any) -> RenderLimits:
    """The config's ``render:`` caps over the defaults (and their ``HANDOFF_MAX_RENDER_*`` overrides)."""
    caps = raw if isinstance(raw, Mapping) else {}
    given = {field: int(caps[key]) for key, field in _RENDER_KEYS.items() if key in caps}
    return replace(RenderLimits.from_env(), **given)


def _source(raw: Any, index: int, file: str, defaults: Mapping[str, Any],
            render_limits: RenderLimits | None = None) -> Source:
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
    render_limits = render_limits or RenderLimits.from_env()
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
    try:
        allow_remote = checked_remotes(raw.get("allowRemote") or (), source=f"{where}.allowRemote")
    except UsageError as e:
        raise fail("allowRemote", e.message) from e
    mode = str(verify.get("mode", "none"))
    if mode not in ("none", "gpg", "ssh"):
        raise fail("verify", f"unknown verify mode {mode!r} (choose none, gpg or ssh)")
    return Source(
        name=name, url=url, revision=revision, path=str(raw.get("path", ".")), renderer=renderer,
        namespace=str(raw.get("namespace", defaults.get("namespace", "default"))),
        interval=parse_duration(raw.get("interval", defaults.get("interval", 60))),
        prune=bool(raw.get("prune", True)), self_heal=bool(raw.get("selfHeal", True)), drift_mode=drift,
        create_namespace=bool(raw.get("createNamespace", False)),
        env=str(raw["env"]) if raw.get("env") else None,
        values=tuple(values), release=str(raw.get("release", "release")),
        credentials=Credentials(
            token_file=creds.get("tokenFile"), username=str(creds.get("username", "git")),
            ssh_key_file=creds.get("sshKeyFile"), known_hosts_file=creds.get("knownHostsFile")),
        verify=Verification(mode=mode, keyring=verify.get("keyring"),
                            allowed_signers=verify.get("allowedSigners")),
        authority=_authority(raw["authority"]) if raw.get("authority") is not None else None,
        service_account=str(raw["serviceAccount"]) if raw.get("serviceAccount") else None,
        allow_remote=allow_remote, render_limits=render_limits,
    )


def _authority(raw: Mapping[str, Any], *, namespaces: tuple[str, ...] = ("*",)) -> Authority:
    """A grant as written; ``namespaces`` is the default when it names none (a tenant's: its own)."""
    def strings(key: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
        value = raw.get(key)
        return default if value is None else tuple(str(v) for v in value)

    return Authority(namespaces=strings("namespaces", namespaces),
                     denied_namespaces=strings("deniedNamespaces"),
                     kinds=strings("kinds", ("*",)), denied_kinds=strings("deniedKinds"),
                     cluster_kinds=strings("clusterKinds"),
                     namespace_metadata=strings("namespaceMetadata", ("*",)),
                     allow_mutating_pods=raw.get("allowMutatingPods") is True, adopt=raw.get("adopt") is True)


def _checked_source(raw: Any, index: int, file: str, defaults: Mapping[str, Any],
                    render_limits: RenderLimits) -> Source:
    try:
        return _source(raw, index, file, defaults, render_limits)
    except ConfigError as e:
        if e.file:
            raise
        key = str(e.key)  # Source's own checks know the key, not the file
        line = _line_of(raw, key) if isinstance(raw, Mapping) else None
        raise ConfigError(e.message, file=file, line=line, key=f"sources[{index}].{key}") from e


def _policy_floor(raw: Mapping[str, Any]) -> PolicyFloor:
    waivers = tuple(
        Waiver(policy=str(w["policy"]), match={str(k): str(v) for k, v in (w.get("match") or {}).items()},
               reason=str(w.get("reason", "")), line=i)
        for i, w in enumerate(raw.get("waivers") or []))
    return PolicyFloor(builtin=bool(raw.get("builtin", True)), policies=tuple(raw.get("policies") or ("*",)),
                       waivers=waivers)


def load_settings(path: Path) -> Settings:
    """Read a reconciler config file, checked by the shipped JSON Schema; errors name file, line and key."""
    file = str(path)
    try:
        _, documents = yamlio.load_file(path, display=file)  # bounds: alias bombs, depth, duplicate keys
    except YamlError as e:
        raise ConfigError(e.message, file=file, line=e.line) from e
    root = next((d for d in documents if d is not None), None)
    if root is None:
        raise ConfigError("the reconciler config is empty (it needs at least sources:)", file=file, line=1)
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
    if "interval" in defaults:
        _at(file, defaults, "interval", "defaults.interval", lambda: parse_duration(defaults["interval"]))
    limits = _render_limits(doc.get("render"))
    sources = tuple(_checked_source(s, i, file, defaults, limits) for i, s in enumerate(raw_sources))
    seen: set[str] = set()
    for index, source in enumerate(sources):
        if source.name in seen:
            raise ConfigError(f"duplicate source names: {source.name}", file=file,
                              line=_line_of(raw_sources[index], "name"), key=f"sources[{index}].name")
        seen.add(source.name)
    prune_raw = doc.get("prune") or {}
    max_fraction = float(prune_raw.get("maxFraction", 0.5))
    if not math.isfinite(max_fraction):  # the schema's minimum/maximum let NaN through
        raise ConfigError("maxFraction must be a number from 0 to 1", file=file,
                          line=_line_of(prune_raw, "maxFraction"), key="prune.maxFraction")
    prune = PruneSettings(
        max_fraction=max_fraction,
        min_inventory=int(prune_raw.get("minInventory", 10)),
        allow_namespaces=bool(prune_raw.get("namespaces", False)),
        allow_crds=bool(prune_raw.get("crds", False)),
    )
    sharding = doc.get("sharding") or {}
    shards, shard = int(sharding.get("shards", 1)), int(sharding.get("shard", 0))
    if shard >= shards:
        raise ConfigError(f"shard {shard} does not exist: shards are numbered 0 to {shards - 1}", file=file,
                          line=_line_of(sharding, "shard"), key="sharding.shard")
    namespace = str(doc.get("namespace", "handoff-system"))
    if not _NAME.match(namespace) or len(namespace) > 63:
        raise ConfigError(f"namespace {namespace!r} is not a DNS label", file=file,
                          line=_line_of(doc, "namespace"), key="namespace")
    lease_name = str(doc.get("leaseName", "handoff-reconciler"))
    if not _SUBDOMAIN.match(lease_name) or len(lease_name) > 253:
        raise ConfigError(f"leaseName {lease_name!r} is not a Kubernetes object name (lowercase letters, "
                          "digits, '-' and '.')", file=file, line=_line_of(doc, "leaseName"), key="leaseName")
    metrics_addr = str(doc.get("metricsAddr", ":8080"))
    if metrics_addr != "off":
        _at(file, doc, "metricsAddr", "metricsAddr", lambda: parse_addr(metrics_addr))
    return Settings(
        sources=sources, namespace=namespace, prune=prune,
        leader_election=bool(doc.get("leaderElection", True)), lease_name=lease_name,
        shards=shards, shard=shard, metrics_addr=metrics_addr,
        policy_floor=_policy_floor(doc.get("policyFloor") or {}),
        sensitive=tuple(SensitiveField(kind=str(f["kind"]), path=str(f["path"]))
                        for f in doc.get("sensitive") or ()),
        status=_status(doc.get("status"), file),
        tenants=_tenants(doc, file),
    )


def _tenants(doc: Mapping[str, Any], file: str) -> tuple[Tenant, ...]:
    """The ``tenants:`` block, through the one tenants parser (a tenants file's too), its line named."""
    try:
        return parse_tenants(doc.get("tenants"), file=file)
    except ConfigError as e:
        raise ConfigError(e.message, file=file, line=_line_of(doc, "tenants"), key=e.key) from e


def _status(raw: Any, file: str) -> StatusSettings | None:
    if not isinstance(raw, Mapping):
        return None
    kind = str(raw.get("kind", ""))
    if kind in ("github", "gitlab") and not (raw.get("project") and raw.get("tokenFile")):
        missing = "project" if not raw.get("project") else "tokenFile"
        raise ConfigError(f"{kind} commit statuses need {missing}", file=file, line=_line_of(raw, "kind"),
                          key=f"status.{missing}")
    if raw.get("keyFile") and kind != "local":
        raise ConfigError("keyFile signs local statuses only", file=file, line=_line_of(raw, "keyFile"),
                          key="status.keyFile")
    context = _status_template(raw, "context", "handoff/{env}", file, "env", "source")
    target_url = _status_template(raw, "targetUrl", "", file, "env", "source", "revision")
    shortest = len(target_url.format(env="", source="", revision="x" * 40))
    if kind == "gitlab" and shortest > GITLAB_MAX_TARGET_URL:
        raise ConfigError(f"targetUrl fills to at least {shortest} characters with a revision; GitLab "
                          f"refuses a target_url over {GITLAB_MAX_TARGET_URL}", file=file,
                          line=_line_of(raw, "targetUrl"), key="status.targetUrl")
    url = str(raw["url"]) if raw.get("url") else None
    if url is not None and (_USERINFO.match(url) or not _GIT_URL.match(url)):
        raise ConfigError(f"status url {url!r} is not a git URL without credentials", file=file,
                          line=_line_of(raw, "url"), key="status.url")
    return StatusSettings(kind=kind, api_url=str(raw["apiUrl"]) if raw.get("apiUrl") else None,
                          project=str(raw.get("project", "")),
                          token_file=str(raw["tokenFile"]) if raw.get("tokenFile") else None,
                          username=str(raw.get("username", "handoff-status")), url=url, context=context,
                          target_url=target_url, key_file=str(raw["keyFile"]) if raw.get("keyFile") else None)


def _status_template(raw: Mapping[str, Any], field_name: str, default: str, file: str, *names: str) -> str:
    """A ``status`` field formatted after each pass: its typo is a ConfigError now, not an error per pass."""
    template = str(raw.get(field_name, default))
    try:
        template.format(**dict.fromkeys(names, "x"))
    except (KeyError, IndexError, ValueError) as e:
        fields = [f"{{{n}}}" for n in names]
        allowed = f"{', '.join(fields[:-1])} and {fields[-1]}"
        raise ConfigError(f"{field_name} {template!r} may use only {allowed}", file=file,
                          line=_line_of(raw, field_name), key=f"status.{field_name}") from e
    return template


def _at(file: str, holder: Any, field_name: str, key: str, check: Callable[[], object]) -> None:
    """Run ``check``; its HandoffError becomes a ConfigError at ``file``, the line of ``field_name`` in
    ``holder``, and ``key``."""
    try:
        check()
    except HandoffError as e:
        raise ConfigError(e.message, file=file, line=_line_of(holder, field_name), key=key) from e


def with_overrides(settings: Settings, **changes: Any) -> Settings:
    return replace(settings, **changes)
