"""From the ConfigMap form to Source objects: the config file's sources as ``handoff.dev/v1`` Source
objects (``handoff reconciler sources-to-crd``), through the same spec writer the CRD round-trip test
checks (``sourcecrd.to_spec``). What a Source object cannot say is named, never silently dropped."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from handoff.reconciler.config import Settings, Source
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


def takes_over(config_source: Source, source_object: Source) -> bool:
    """A Source object annotated as migrated from ``config_source`` takes its place only while it follows
    the same repository, ref and path into the same namespace: what the config-file source would apply,
    the object applies (within its own namespace's grant). Any other annotated object (an edited one, or
    a tenant naming an operator's source it does not mirror) takes nothing over."""
    return (config_source.url, config_source.revision, config_source.path, config_source.namespace) == (
        source_object.url, source_object.revision, source_object.path, source_object.namespace)
