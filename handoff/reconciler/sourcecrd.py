"""The ``Source`` custom resource (``handoff.dev/v1``), described once: the spec fields with their types,
enums, defaults and patterns. The CRD's OpenAPI schema, the parser (spec → :class:`config.Source`), the
inverse (for the round-trip test and ``kubectl apply`` of a migrated config) and the docs table all derive
from :data:`SPEC`; there is no second copy to keep in step."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from handoff.errors import ConfigError
from handoff.reconciler.config import (
    DRIFT_MODES,
    RENDERERS,
    Authority,
    Credentials,
    Source,
    Verification,
    parse_duration,
)
from handoff.reconciler.privatehosts import why_private

GROUP, VERSION, KIND, PLURAL, SINGULAR = "handoff.dev", "v1", "Source", "sources", "source"
API_VERSION = f"{GROUP}/{VERSION}"
CRD_NAME = f"{PLURAL}.{GROUP}"
PRUNE_FINALIZER = "handoff.dev/prune"
REQUESTED_AT = "handoff.dev/requested-at"
_DNS_LABEL = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
_DURATION = r"^[0-9]+(\.[0-9]+)?(ms|s|m|h)$"
_REF = r"^[A-Za-z0-9_][A-Za-z0-9._/-]*$"
# Free text that reaches the filesystem, argv and the operator's terminal: no C0/C1 control characters
# nor DEL (a NUL makes every os call fail, NEL 0x85 splits a line for str.splitlines, CSI 0x9b starts a
# terminal sequence), no line/paragraph separators, no bidi or zero-width format characters (they
# reorder or hide what a terminal shows). Written as RE2 spells code points, \x{HHHH}; the parser reads
# the same text through python_pattern.
_UNPRINTABLE = ((0x00, 0x1F), (0x7F, 0x9F), (0x61C, 0x61C), (0x180E, 0x180E), (0x200B, 0x200F),
                (0x2028, 0x202E), (0x2060, 0x206F), (0xFEFF, 0xFEFF), (0xFFF9, 0xFFFB))
# Unicode spaces: RE2 reads \s as ASCII whitespace, Python's re as every Unicode space, so no pattern
# here uses \s (nor \w, \d): each class is spelled out by code point, the same set in both engines
_SPACES = ((0x20, 0x20), (0xA0, 0xA0), (0x1680, 0x1680), (0x2000, 0x200A), (0x202F, 0x202F),
           (0x205F, 0x205F), (0x3000, 0x3000))


def _none_of(ranges: tuple[tuple[int, int], ...]) -> str:
    """A character class refusing every code point in ``ranges``, as RE2 spells them (``\\x{HHHH}``)."""
    return "[^" + "".join(f"\\x{{{lo:04X}}}" + (f"-\\x{{{hi:04X}}}" if hi > lo else "")
                          for lo, hi in ranges) + "]"


_PRINTABLE = "^" + _none_of(_UNPRINTABLE) + "*$"
# No file:// (nor a bare path): a tenant's Source would read any git repository on the reconciler's disk,
# other tenants' checkouts included (config-file sources, the operator's own, keep file://). The URL is
# printable text with no spaces at all.
_URL_CHAR = _none_of(_UNPRINTABLE + _SPACES)
_GIT_URL = f"^((https?|ssh|git)://{_URL_CHAR}+|[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:{_URL_CHAR}+)$"


@dataclass(frozen=True)
class Field:
    """One spec field: its JSON type and the checks the API server runs before the reconciler sees it."""

    name: str
    type: str  # string | boolean | array | object
    description: str
    default: Any = None
    enum: tuple[str, ...] = ()
    pattern: str = ""
    max_length: int = 0
    required: bool = False
    items: str = ""  # the element type of an array
    item_pattern: str = ""  # what each element of an array of strings must match
    fields: tuple[Field, ...] = ()  # an object's own fields


_SECRET_REF = (
    Field("name", "string", "Secret name, in the Source's namespace.", required=True, pattern=_SUBDOMAIN,
          max_length=253),
    Field("namespace", "string", "Refused unless it is the Source's own namespace (kept in the schema so "
          "a cross-namespace reference is refused by name instead of silently pruned).", pattern=_DNS_LABEL,
          max_length=63),
)

SPEC: tuple[Field, ...] = (
    Field("url", "string", "Git URL of the config repository: https://, http://, ssh://, git:// or "
          "user@host:path, with no credentials in it; never file://, nor a loopback or link-local host "
          "unless the operator allows private hosts.", required=True,
          pattern=_GIT_URL, max_length=2048),
    Field("revision", "string", "Branch, tag or commit to follow.", default="main", pattern=_REF,
          max_length=255),
    Field("path", "string", "Directory in the repository to render.", default=".", pattern=_PRINTABLE,
          max_length=1024),
    Field("renderer", "string", "How to render path; env: what the .handoff.yaml environment `env` "
          "declares.", default="auto", enum=RENDERERS),
    Field("targetNamespace", "string", "Namespace for namespaced objects that set none (default: the "
          "Source's namespace).", pattern=_DNS_LABEL, max_length=63),
    Field("interval", "string", "How often to pull and check drift (e.g. 30s, 5m, 1h).", default="1m",
          pattern=_DURATION),
    Field("prune", "boolean", "Delete objects a revision drops, and every object when the Source is "
          "deleted (finalizer handoff.dev/prune); false orphans them.", default=True),
    Field("selfHeal", "boolean", "Act on drift at all (see driftMode).", default=True),
    Field("driftMode", "string", "revert: re-apply drifted objects; warn: only report them.",
          default="revert", enum=DRIFT_MODES),
    Field("env", "string", "The .handoff.yaml environment whose policy params and waivers apply.",
          pattern=_PRINTABLE, max_length=253),
    Field("values", "array", "Helm values files, relative to the repository.", items="string",
          item_pattern=_PRINTABLE),
    Field("release", "string", "Helm release name.", default="release", pattern=_PRINTABLE, max_length=53),
    Field("secretRef", "object", "Git credentials: a Secret with token (or password) and username, or "
          "identity and known_hosts.", fields=_SECRET_REF),
    Field("verify", "object", "Commit-signature verification.", fields=(
        Field("mode", "string", "none, gpg (keyring files in the Secret) or ssh (allowed_signers in it).",
              default="none", enum=("none", "gpg", "ssh")),
        Field("secretRef", "object", "The Secret holding the trusted keys.", fields=_SECRET_REF),
    )),
    Field("serviceAccountName", "string", "ServiceAccount in the Source's namespace whose rights the "
          "applies use (impersonated).", pattern=_SUBDOMAIN, max_length=253),
    Field("suspend", "boolean", "Stop reconciling (objects are kept, nothing is pruned).", default=False),
)


# ---- the schema -------------------------------------------------------------------------------------
def _schema(f: Field) -> dict[str, Any]:
    out: dict[str, Any] = {"type": f.type, "description": f.description}
    if f.default is not None:
        out["default"] = f.default
    if f.enum:
        out["enum"] = list(f.enum)
    if f.pattern:
        out["pattern"] = f.pattern
    if f.max_length:
        out["maxLength"] = f.max_length
    if f.items:
        out["items"] = {"type": f.items, "maxLength": 1024}
        if f.item_pattern:
            out["items"]["pattern"] = f.item_pattern
        out["maxItems"] = 50
    if f.fields:
        out.update(_object(f.fields))
    return out


def _object(fields: tuple[Field, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {"properties": {f.name: _schema(f) for f in fields}}
    required = [f.name for f in fields if f.required]
    if required:
        out["required"] = required
    return out


_CONDITION = {
    "type": "object", "required": ["type", "status", "lastTransitionTime", "reason", "message"],
    "properties": {
        "type": {"type": "string", "maxLength": 316},
        "status": {"type": "string", "enum": ["True", "False", "Unknown"]},
        "reason": {"type": "string", "maxLength": 1024},
        "message": {"type": "string", "maxLength": 32768},
        "lastTransitionTime": {"type": "string", "format": "date-time"},
        "observedGeneration": {"type": "integer", "format": "int64", "minimum": 0},
    },
}
_STATUS = {
    "type": "object",
    "properties": {
        "observedGeneration": {"type": "integer", "format": "int64"},
        "conditions": {"type": "array", "items": _CONDITION, "maxItems": 8,
                       "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]},
        "lastAppliedRevision": {"type": "string"},
        "lastAttemptedRevision": {"type": "string"},
        "lastHandledRequestedAt": {"type": "string"},
        "inventory": {"type": "object", "properties": {"count": {"type": "integer"}}},
        "drift": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
        "prune": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
    },
}


def crd() -> dict[str, Any]:
    """The CustomResourceDefinition, schema and columns generated from :data:`SPEC`."""
    spec_schema = {"type": "object", "description": "What to pull, render and apply.", **_object(SPEC)}
    return {
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": CRD_NAME, "labels": {"app.kubernetes.io/part-of": "handoff"}},
        "spec": {
            "group": GROUP, "scope": "Namespaced",
            "names": {"kind": KIND, "listKind": f"{KIND}List", "plural": PLURAL, "singular": SINGULAR,
                      "shortNames": ["hsrc"], "categories": ["handoff"]},
            "versions": [{
                "name": VERSION, "served": True, "storage": True,
                "subresources": {"status": {}},
                "additionalPrinterColumns": [
                    {"name": "Ready", "type": "string",
                     "jsonPath": ".status.conditions[?(@.type==\"Ready\")].status"},
                    {"name": "Revision", "type": "string", "jsonPath": ".status.lastAppliedRevision"},
                    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
                    {"name": "Message", "type": "string", "priority": 0,
                     "jsonPath": ".status.conditions[?(@.type==\"Ready\")].message"},
                ],
                "schema": {"openAPIV3Schema": {
                    "type": "object", "description": "A git source the handoff reconciler applies.",
                    "required": ["spec"],
                    "properties": {"apiVersion": {"type": "string"}, "kind": {"type": "string"},
                                   "metadata": {"type": "object"}, "spec": spec_schema, "status": _STATUS},
                }},
            }],
        },
    }


def docs_table() -> str:
    """The spec reference as a Markdown table (docs/reconciler.md embeds it; a test keeps them equal)."""
    rows = ["| field | type | default | description |", "|---|---|---|---|"]

    def add(f: Field, prefix: str = "") -> None:
        shown = str(f.default).lower() if f.type == "boolean" else f.default
        default = "" if f.default is None else f"`{shown}`"
        kind = " \\| ".join(f"`{e}`" for e in f.enum) if f.enum else f.type
        rows.append(f"| `{prefix}{f.name}`{' (required)' if f.required else ''} | {kind} | {default} | "
                    f"{f.description} |")
        for sub in f.fields:
            add(sub, f"{prefix}{f.name}.")

    for f in SPEC:
        add(f)
    return "\n".join(rows) + "\n"


# ---- spec ⇄ Source ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class SecretFiles:
    """Where the reconciler wrote a referenced Secret's keys (one file each), for git and gpg to read."""

    directory: Path
    keys: frozenset[str] = frozenset()

    def file(self, *names: str) -> str | None:
        found = next((n for n in names if n in self.keys), None)
        return str(self.directory / found) if found else None


@dataclass(frozen=True)
class SourceObject:
    """A Source object as the reconciler serves it: the :class:`config.Source` every pass uses, and what
    only the object has (its Secret references, suspension, generation, sync request)."""

    namespace: str
    name: str
    source: Source
    secret: str | None = None
    verify_secret: str | None = None
    suspend: bool = False
    generation: int = 0
    requested_at: str = ""
    finalizers: tuple[str, ...] = ()
    deleting: bool = False
    status: Mapping[str, Any] = field(default_factory=dict)
    resource_version: str = ""
    uid: str = ""
    # the generation this process last saw observed (its pass published, or a same-settings edit caught
    # up): never read from the stored status, which anyone with ``sources/status`` may write
    observed_generation: int = 0

    @property
    def key(self) -> str:
        return self.source.name


def source_name(namespace: str, name: str) -> str:
    """The reconciler's name for a Source object: ``NAMESPACE/NAME`` (config-file sources have no ``/``)."""
    return f"{namespace}/{name}"


def _default(f: Field, spec: Mapping[str, Any]) -> Any:
    return spec.get(f.name, f.default)


def _spec_field(name: str) -> Field:
    return next(f for f in SPEC if f.name == name)


_TYPES: dict[str, type] = {"string": str, "boolean": bool, "array": list, "object": Mapping}


def _is(value: Any, json_type: str) -> bool:
    return isinstance(value, _TYPES[json_type])


def python_pattern(pattern: str) -> str:
    """An RE2 schema pattern as Python's re reads it: RE2's ``\\x{HHHH}`` is Python's ``\\UHHHHHHHH``."""
    return re.sub(r"\\x\{([0-9A-Fa-f]+)\}", lambda m: f"\\U{int(m.group(1), 16):08x}", pattern)


def check(spec: Mapping[str, Any], fields: tuple[Field, ...] = SPEC, prefix: str = "") -> None:
    """The schema's checks, in Python: an object stored before the CRD was (re)installed, or read from a
    file, meets the same rules the API server enforces."""
    for f in fields:
        key = f"{prefix}{f.name}"
        if f.name not in spec or spec[f.name] is None:
            if f.required:
                raise ConfigError(f"{key} is required", key=key)
            continue
        value: Any = spec[f.name]
        if not _is(value, f.type):
            raise ConfigError(f"{key} must be a{'n' if f.type[0] in 'ao' else ''} {f.type}", key=key)
        if f.enum and value not in f.enum:
            raise ConfigError(f"{key} {value!r} is not one of {', '.join(f.enum)}", key=key)
        if f.pattern and not re.fullmatch(python_pattern(f.pattern), value):
            raise ConfigError(f"{key} {value!r} does not match {f.pattern}", key=key)
        if f.max_length and len(value) > f.max_length:
            raise ConfigError(f"{key} is longer than {f.max_length} characters", key=key)
        if f.items and not all(_is(v, f.items) for v in value):
            raise ConfigError(f"{key} must be a list of {f.items}s", key=key)
        for item in value if f.item_pattern else ():
            if not re.fullmatch(python_pattern(f.item_pattern), item):
                raise ConfigError(f"{key} entry {item!r} does not match {f.item_pattern}", key=key)
        if f.fields:
            check(value, f.fields, f"{key}.")


def _secret_name(namespace: str, ref: Any, key: str) -> str | None:
    if not ref:
        return None
    if not isinstance(ref, Mapping) or not ref.get("name"):
        raise ConfigError("a secretRef needs a name", key=key)
    other = ref.get("namespace")
    if other and other != namespace:
        raise ConfigError(f"secretRef to namespace {other} refused: a Source may only reference Secrets in "
                          f"its own namespace ({namespace})", key=key)
    return str(ref["name"])


def _secret_text(keys: SecretFiles, key: str, secret: str) -> str:
    """Secret data is bytes (the API server takes any): a key git reads as text must be UTF-8."""
    try:
        return (keys.directory / key).read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{key} in Secret {secret} is not UTF-8", key="secretRef") from None


def parse(obj: Mapping[str, Any], *, authority: Authority | None = None,
          secrets: Mapping[str, SecretFiles] | None = None, allow_private_hosts: bool = False,
          secrets_needed: bool = True, default_service_account: str | None = None) -> SourceObject:
    """A Source object as a :class:`SourceObject`; errors are :class:`ConfigError` naming the object and
    the spec key. ``secrets`` maps a referenced Secret's name to where its keys were written.
    ``allow_private_hosts``: the operator lets Source URLs name loopback and link-local hosts
    (:mod:`privatehosts`). ``secrets_needed=False``: a Secret not found is no error (a Source read
    without its Secrets). A Source being deleted is read with :func:`parse_ending` instead."""
    meta = obj.get("metadata") or {}
    namespace, name = str(meta.get("namespace") or ""), str(meta.get("name") or "")
    where = f"{KIND} {namespace}/{name}"
    spec = obj.get("spec") or {}
    if not isinstance(spec, Mapping):
        raise ConfigError("spec must be a mapping", file=where, key="spec")
    files = secrets or {}
    try:
        check(spec)
        private = "" if allow_private_hosts else why_private(str(spec.get("url", "")))
        if private:
            raise ConfigError(f"url refused: {private}; a Source may not fetch from there unless the "
                              "operator allows private hosts (reconcile --allow-private-hosts)", key="url")
        secret = _secret_name(namespace, spec.get("secretRef"), "secretRef")
        verify = spec.get("verify") or {}
        verify_secret = _secret_name(namespace, verify.get("secretRef"), "verify.secretRef")
        creds, keys = Credentials(), files.get(secret or "")
        if secret and keys is None and secrets_needed:
            raise ConfigError(f"Secret {namespace}/{secret} not found", key="secretRef")
        if keys is not None:
            username = _secret_text(keys, "username", f"{namespace}/{secret}").strip() \
                if "username" in keys.keys else "git"
            creds = Credentials(token_file=keys.file("token", "password"), username=username,
                                ssh_key_file=keys.file("identity"), known_hosts_file=keys.file("known_hosts"))
        mode = str(verify.get("mode", "none"))
        trusted = files.get(verify_secret or "")
        if verify_secret and trusted is None and secrets_needed:
            raise ConfigError(f"Secret {namespace}/{verify_secret} not found", key="verify.secretRef")
        if mode != "none" and trusted is None and secrets_needed:
            raise ConfigError(f"verify mode {mode} needs verify.secretRef (the trusted keys)",
                              key="verify.secretRef")
        verification = Verification(
            mode=mode, keyring=str(trusted.directory) if trusted and mode == "gpg" else None,
            allowed_signers=trusted.file("allowed_signers") if trusted and mode == "ssh" else None)
        sa = spec.get("serviceAccountName") or default_service_account
        source = Source(
            name=source_name(namespace, name), url=str(spec.get("url", "")),
            revision=str(_default(_spec_field("revision"), spec)),
            path=str(_default(_spec_field("path"), spec)),
            renderer=str(_default(_spec_field("renderer"), spec)),
            namespace=str(spec.get("targetNamespace") or namespace),
            interval=parse_duration(str(_default(_spec_field("interval"), spec))),
            prune=bool(_default(_spec_field("prune"), spec)),
            self_heal=bool(_default(_spec_field("selfHeal"), spec)),
            drift_mode=str(_default(_spec_field("driftMode"), spec)),
            env=str(spec["env"]) if spec.get("env") else None,
            values=tuple(str(v) for v in spec.get("values") or ()),
            release=str(_default(_spec_field("release"), spec)),
            credentials=creds, verify=verification, authority=authority,
            service_account=f"{namespace}/{sa}" if sa else None,
            secrets=tuple(f"{namespace}/{n}" for n in (secret, verify_secret) if n),
        )
    except ConfigError as e:
        key = str(e.key or "")
        raise ConfigError(e.message, file=where, key=f"spec.{key}" if key else "spec") from e
    return SourceObject(
        namespace=namespace, name=name, source=source, secret=secret, verify_secret=verify_secret,
        suspend=bool(_default(_spec_field("suspend"), spec)), generation=int(meta.get("generation") or 0),
        requested_at=str((meta.get("annotations") or {}).get(REQUESTED_AT, "")),
        finalizers=tuple(str(f) for f in meta.get("finalizers") or ()),
        deleting=bool(meta.get("deletionTimestamp")), status=dict(obj.get("status") or {}),
        resource_version=str(meta.get("resourceVersion") or ""), uid=str(meta.get("uid") or ""))


# what ending a deleted Source reads of its spec; the rest is left out, so a spec the reconciler refuses
# (a path outside the repository, a url refused after a restart) never keeps the object from going
ENDING_FIELDS = ("prune", "suspend", "serviceAccountName", "targetNamespace")
_NO_FETCH_URL = "https://ending.invalid/"  # a deleted Source is never fetched: any valid url stands in


def parse_ending(obj: Mapping[str, Any], *, authority: Authority | None = None,
                 default_service_account: str | None = None) -> SourceObject:
    """Deleted Source object ``obj`` as far as ending it needs (:data:`ENDING_FIELDS`: prune or orphan,
    as which identity, within which grant; its name gives the inventory and owner label): every other
    field is at its default and no Secret is read. Errors name the object and the key."""
    spec = obj.get("spec") or {}
    needed = {k: spec[k] for k in ENDING_FIELDS if k in spec} if isinstance(spec, Mapping) else {}
    return parse({**obj, "spec": {**needed, "url": _NO_FETCH_URL}}, authority=authority,
                 allow_private_hosts=True, default_service_account=default_service_account)


def _duration_text(seconds: float) -> str:
    for unit, size in (("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{round(seconds * 1000)}ms"


def to_spec(obj: SourceObject) -> dict[str, Any]:
    """The spec that parses back to ``obj`` (every field, defaults written out)."""
    s = obj.source
    spec: dict[str, Any] = {
        "url": s.url, "revision": s.revision, "path": s.path, "renderer": s.renderer,
        "targetNamespace": s.namespace, "interval": _duration_text(s.interval), "prune": s.prune,
        "selfHeal": s.self_heal, "driftMode": s.drift_mode, "values": list(s.values), "release": s.release,
        "verify": {"mode": s.verify.mode}, "suspend": obj.suspend,
    }
    if s.env:
        spec["env"] = s.env
    if obj.secret:
        spec["secretRef"] = {"name": obj.secret}
    if obj.verify_secret:
        spec["verify"]["secretRef"] = {"name": obj.verify_secret}
    if s.service_account:
        spec["serviceAccountName"] = s.service_account.rpartition("/")[2]
    return spec
