"""From the ConfigMap form to Source objects: the config file's sources as ``handoff.dev/v1`` Source
objects (``handoff reconciler sources-to-crd``), through the same spec writer the CRD round-trip test
checks (``sourcecrd.to_spec``). What a Source object cannot say is named, never silently dropped."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from handoff.reconciler.authority import service_account_user
from handoff.reconciler.config import Settings, Source, Verification
from handoff.reconciler.sourcecrd import API_VERSION, KIND, SourceObject, to_spec

CREDENTIALS_SECRET, VERIFY_SECRET = "git-credentials", "git-verify"  # Secret names, not their contents
# on a printed Source object: the config-file source it was made from, which it takes over while both are
# served (``--sources-from both``, the upgrade's step 3): see :func:`takes_over`
MIGRATED_FROM = "handoff.dev/migrated-from"


@dataclass(frozen=True)
class Migrated:
    objects: list[dict[str, Any]]
    notes: list[str]  # per source, what the object does not carry and what to do instead


def _notes(source: Source, namespace: str) -> list[str]:
    out = []
    where = f"source {source.name}"
    if source.authority is not None:
        out.append(f"{where}: authority: is not a Source field; grant namespace {namespace} the same in the "
                   "reconciler's tenants")
    if source.allow_remote:
        out.append(f"{where}: allowRemote is the operator's and stays in the config file's render settings")
    if source.service_account and "/" in source.service_account \
            and source.service_account.partition("/")[0] != namespace:
        out.append(f"{where}: serviceAccount {source.service_account} is outside namespace {namespace}; "
                   "a Source may name only its own namespace's")
    return out


def sources_to_crd(settings: Settings, *, namespace: str | None = None,
                   secret: str = CREDENTIALS_SECRET, verify_secret: str = VERIFY_SECRET) -> Migrated:
    """One Source object per config-file source, in ``namespace`` (default: the source's target
    namespace). Credentials become ``secretRef: {name: secret}`` (create that Secret in the object's
    namespace, keys ``token``/``username`` or ``identity``/``known_hosts``), trusted keys
    ``verify.secretRef: {name: verify_secret}``."""
    objects, notes = [], []
    for source in settings.sources:
        ns = namespace or source.namespace
        creds = source.credentials
        has_creds = bool(creds.token_file or creds.ssh_key_file)
        sa = source.service_account
        own_sa = sa if sa and (("/" not in sa) or sa.partition("/")[0] == ns) else None
        spec = to_spec(SourceObject(
            namespace=ns, name=source.name,
            source=replace(source, service_account=own_sa),
            secret=secret if has_creds else None,
            verify_secret=verify_secret if source.verify.mode != "none" else None))
        objects.append({"apiVersion": API_VERSION, "kind": KIND,
                        "metadata": {"name": source.name, "namespace": ns,
                                     "annotations": {MIGRATED_FROM: source.name}}, "spec": spec})
        notes += _notes(source, ns)
    return Migrated(objects, notes)


# Source fields a Source object cannot carry as the config file does, left out of the mirror check: its
# name (NAMESPACE/NAME), credentials and the trusted keys' paths (Secret files; the keys themselves are
# compared), what the object gets from the operator and not its spec (authority: the namespace's grant in
# the tenants; allowRemote and render limits: the render settings), the Secrets it reads, and the
# ServiceAccount as written (compared as the identity it means)
_NOT_CARRIED = frozenset({"name", "credentials", "verify", "authority", "allow_remote", "render_limits",
                          "secrets", "service_account"})


def takes_over(config_source: Source, source_object: Source) -> bool:
    """A Source object annotated as migrated from ``config_source`` takes its place only while it mirrors
    every setting of it a Source object can carry: the same repository, ref, path, renderer, values,
    release, env (policy params and waivers), namespace, interval, prune, self-heal and drift mode, the
    same ServiceAccount identity, and the same verification (mode and trusted keys, byte for byte). What
    the config-file source would apply, and under which checks, the object applies (within its own
    namespace's grant). Any other annotated object (an edited one, one without the verification, or a
    tenant naming an operator's source it does not mirror) takes nothing over."""
    return (_carried(config_source) == _carried(source_object)
            and _same_trust(config_source.verify, source_object.verify))


def _carried(source: Source) -> dict[str, Any]:
    out = {f.name: getattr(source, f.name) for f in fields(source) if f.name not in _NOT_CARRIED}
    out["identity"] = service_account_user(source) if source.service_account else None
    return out


def _same_trust(config: Verification, found: Verification) -> bool:
    """The same verification mode, trusting the same keys: the same allowed_signers file content (ssh),
    the same keyring files (gpg; every file of the keyring directory, none more). Unreadable keys are
    not the same."""
    if config.mode != found.mode:
        return False
    try:
        if config.mode == "ssh":
            return _content(config.allowed_signers) == _content(found.allowed_signers)
        if config.mode == "gpg":
            return _keyring(config.keyring) == _keyring(found.keyring)
    except OSError:
        return False
    return True


def _content(file: str | None) -> bytes | None:
    return Path(file).read_bytes() if file else None


def _keyring(directory: str | None) -> dict[str, bytes] | None:
    if not directory:
        return None
    return {p.name: p.read_bytes() for p in Path(directory).iterdir() if p.is_file()}
