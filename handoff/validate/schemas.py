"""Kubernetes JSON schemas, offline, from the ``kubernetes-validate`` package's files.

The package is a default dependency of ``handoff-gitops``: it ships strict and non-strict schemas for every
Kubernetes minor from 1.25 on, and we read its files directly (never import it). Each kind's schema
refers into a shared ``_definitions.json``; we make it standalone by copying in only the definitions
it reaches, which is also the layout kubeconform reads (``{kind}-{group}-{version}.json``), so both
engines validate against the very same documents.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import threading
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from handoff.errors import ConfigError, ToolMissingError

_EXTERNAL_REF = "/api/_definitions.json#"
_REF = re.compile(r'"\$ref":\s*"#/\$defs/([^"]+)"')
_SCHEMA_DIR_ENV = "HANDOFF_SCHEMA_DIR"
_VERSION_DIR = re.compile(r"^v(\d+)\.(\d+)\.\d+-local(-strict)?$")


def schema_root() -> Path:
    """The directory holding ``vX.Y.Z-local[-strict]`` schema sets."""
    override = os.environ.get(_SCHEMA_DIR_ENV)
    if override:
        return Path(override)
    spec = importlib.util.find_spec("kubernetes_validate")
    if spec is None or not spec.submodule_search_locations:
        raise ToolMissingError(
            "the Kubernetes schemas are not installed: pip install kubernetes-validate "
            "(or use --engine kubeconform)")
    return Path(next(iter(spec.submodule_search_locations))) / "kubernetes-json-schema"


def available_versions(root: Path | None = None) -> list[str]:
    """Kubernetes minors with schemas, oldest first (``['1.25', …, '1.37']``)."""
    base = root or schema_root()
    found = {(int(m[1]), int(m[2])) for d in _list(base) if (m := _VERSION_DIR.match(d))}
    return [f"{a}.{b}" for a, b in sorted(found)]


def _list(path: Path) -> list[str]:
    try:
        return [p.name for p in path.iterdir()]
    except OSError:
        return []


def resolve_version(requested: str | None, root: Path | None = None) -> str:
    """``1.37`` for None; ``v1.30.2`` → ``1.30``; an unknown minor is a usage error listing the choices."""
    versions = available_versions(root)
    if not versions:
        raise ToolMissingError(f"no Kubernetes schemas found under {root or schema_root()}")
    if requested is None or requested in ("", "latest", "master"):
        return versions[-1]
    m = re.match(r"^v?(\d+)\.(\d+)(?:\.\d+)?$", requested.strip())
    if not m or f"{int(m[1])}.{int(m[2])}" not in versions:
        raise ConfigError(f"no schemas for Kubernetes version {requested!r} "
                          f"(available: {versions[0]} to {versions[-1]})", key="kubernetes-version")
    return f"{int(m[1])}.{int(m[2])}"


# what a kind and an apiVersion may be to name a schema file; anything else has none
_PLAIN_KIND = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_PLAIN_API_VERSION = re.compile(r"(?:[a-z0-9](?:[-a-z0-9.]*[a-z0-9])?/)?[a-z0-9]+")


def kind_file_name(api_version: str, kind: str) -> str:
    """``apps/v1`` Deployment → ``deployment-apps-v1``; ``rbac.authorization.k8s.io/v1`` → ``…-rbac-v1``."""
    group, _, version = api_version.rpartition("/")
    suffix = f"-{group.split('.')[0]}-{version}" if group else f"-{version}"
    return f"{kind.lower()}{suffix}".lower()


class KubernetesSchemas:
    """Standalone schemas of one Kubernetes minor (strict or not), loaded lazily and cached."""

    def __init__(self, version: str | None = None, *, strict: bool = True, root: Path | None = None) -> None:
        base = root or schema_root()
        self.version = resolve_version(version, base)
        suffix = "-strict" if strict else ""
        self.strict = strict
        self.directory = next(base / d for d in sorted(_list(base))
                              if (m := _VERSION_DIR.match(d)) and f"{m[1]}.{m[2]}" == self.version
                              and (m[3] or "") == suffix)
        self._defs: dict[str, Any] | None = None
        self._refs: dict[str, list[str]] = {}
        self._lock = threading.Lock()

    def preload(self) -> None:
        """Load the shared definitions now (before forking workers, so they inherit them)."""
        self._definitions()

    def _definitions(self) -> dict[str, Any]:
        if self._defs is None:
            with self._lock:
                if self._defs is None:
                    text = (self.directory / "_definitions.json").read_text(encoding="utf-8")
                    defs: dict[str, Any] = json.loads(text)["$defs"]
                    self._refs = {name: _REF.findall(json.dumps(body)) for name, body in defs.items()}
                    self._defs = defs
        return self._defs

    def schema_for(self, api_version: str, kind: str) -> dict[str, Any] | None:
        """The standalone schema for this apiVersion/kind, or None when this version has none (a kind or
        apiVersion that is not a plain name, ``../../x`` say, names no file: it is never made a path)."""
        if not _PLAIN_KIND.fullmatch(kind) or not _PLAIN_API_VERSION.fullmatch(api_version):
            return None
        path = self.directory / f"{kind_file_name(api_version, kind)}.json"
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            return None
        schema: dict[str, Any] = json.loads(text.replace(_EXTERNAL_REF, "#"))
        if not _same_group_version_kind(schema, api_version, kind):
            return None  # e.g. networking.istio.io/v1 would otherwise hit networking.k8s.io's file name
        schema.pop("$id", None)
        defs = self._definitions()
        reached: dict[str, Any] = {}
        pending = _REF.findall(json.dumps(schema))
        while pending:
            name = pending.pop()
            if name in reached or name not in defs:
                continue
            reached[name] = defs[name]
            pending.extend(self._refs[name])
        schema["$defs"] = reached
        return schema

    def kinds(self) -> Iterator[str]:
        """Every per-kind schema file stem in this set (definitions and the index excluded)."""
        for name in sorted(_list(self.directory)):
            if name.endswith(".json") and name not in ("_definitions.json", "all.json"):
                yield name[:-5]

    def export(self, destination: Path) -> Path:
        """Write every standalone schema to ``destination`` in kubeconform's file layout (idempotent)."""
        stamp = destination / ".complete"
        if stamp.exists():
            return destination
        destination.mkdir(parents=True, exist_ok=True)
        for stem in self.kinds():
            body = json.loads((self.directory / f"{stem}.json").read_text(encoding="utf-8"))
            for gvk in body.get("x-kubernetes-group-version-kind") or ():
                group, version = gvk.get("group", ""), gvk.get("version", "")
                api_version = f"{group}/{version}" if group else version
                schema = self.schema_for(api_version, str(gvk.get("kind", "")))
                if schema is not None:
                    _atomic_write(destination / f"{stem}.json", json.dumps(schema))
                break
        stamp.touch()
        return destination


def _same_group_version_kind(schema: dict[str, Any], api_version: str, kind: str) -> bool:
    gvks = schema.get("x-kubernetes-group-version-kind")
    if not gvks:
        return True
    group, _, version = api_version.rpartition("/")
    return any(g.get("group", "") == group and g.get("version") == version and g.get("kind") == kind
               for g in gvks)


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


@cache
def kubernetes_schemas(version: str | None, strict: bool = True) -> KubernetesSchemas:
    """One shared schema set per (version, strict) in this process."""
    return KubernetesSchemas(version, strict=strict)
