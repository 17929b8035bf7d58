"""Schemas for custom resources: from CRDs in the render (or repo) and from a CRDs-catalog directory.

A CRD's ``openAPIV3Schema`` becomes a JSON schema the way kubeconform's openapi2jsonschema makes it:
``x-kubernetes-int-or-string`` turns into string-or-integer, and in strict mode every object schema
with ``properties`` gets ``additionalProperties: false`` unless it preserves unknown fields.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from handoff.manifests.model import RenderedObject
from handoff.pathsafe import check_tree, contained

CRD_API_GROUP = "apiextensions.k8s.io"
_INT_OR_STRING = {"oneOf": [{"type": "string"}, {"type": "integer"}]}
_IMPLIED_ROOT_FIELDS: dict[str, Any] = {
    "apiVersion": {"type": "string"},
    "kind": {"type": "string"},
    "metadata": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
}


def is_crd(obj: Mapping[str, Any]) -> bool:
    return obj.get("kind") == "CustomResourceDefinition" and \
        str(obj.get("apiVersion", "")).startswith(CRD_API_GROUP + "/")


def strictify(schema: Any, *, strict: bool) -> Any:
    """A copy of an OpenAPI v3 schema turned into the JSON schema kubeconform would use.

    The API server always accepts apiVersion, kind and metadata on a custom resource even when the
    CRD's schema omits them, so they are added at the root before strictness forbids unknown fields.
    """
    root = copy.deepcopy(schema)
    if isinstance(root, dict) and isinstance(root.get("properties"), dict):
        for key, implied in _IMPLIED_ROOT_FIELDS.items():
            root["properties"].setdefault(key, implied)
    return _convert(root, strict=strict, preserve=False)


def _convert(node: Any, *, strict: bool, preserve: bool) -> Any:
    if isinstance(node, list):
        return [_convert(item, strict=strict, preserve=preserve) for item in node]
    if not isinstance(node, dict):
        return node
    if node.get("x-kubernetes-int-or-string") is True:
        rest = {k: v for k, v in node.items() if k not in ("x-kubernetes-int-or-string", "type")}
        return {**rest, **_INT_OR_STRING}
    keeps_unknown = node.get("x-kubernetes-preserve-unknown-fields") is True
    out = {k: _convert(v, strict=strict, preserve=keeps_unknown) for k, v in node.items()}
    if strict and "properties" in out and "additionalProperties" not in out and not keeps_unknown:
        out["additionalProperties"] = False
    return out


def _served_versions(crd: Mapping[str, Any]) -> Iterator[tuple[str, str, Mapping[str, Any]]]:
    """``(apiVersion, kind, openAPIV3Schema)`` for every served version of one CRD that has a schema."""
    spec = crd.get("spec") or {}
    group = str(spec.get("group", ""))
    kind = str((spec.get("names") or {}).get("kind", ""))
    if not group or not kind:
        return
    shared = (spec.get("validation") or {}).get("openAPIV3Schema")  # v1beta1 CRDs
    for version in spec.get("versions") or ():
        if not isinstance(version, Mapping) or version.get("served") is False:
            continue
        schema = (version.get("schema") or {}).get("openAPIV3Schema") or shared
        if isinstance(schema, Mapping):
            yield f"{group}/{version.get('name')}", kind, schema


def crd_schemas(crd: Mapping[str, Any], *, strict: bool) -> dict[tuple[str, str], dict[str, Any]]:
    """``{(apiVersion, kind): schema}`` for every served version of one CRD that has a schema."""
    return {(api_version, kind): strictify(dict(schema), strict=strict)
            for api_version, kind, schema in _served_versions(crd)}


def schemas_from_objects(objects: Iterable[RenderedObject], *, strict: bool
                         ) -> dict[tuple[str, str], dict[str, Any]]:
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for obj in objects:
        if is_crd(obj.obj):
            found.update(crd_schemas(obj.obj, strict=strict))
    return found


class CrdIndex:
    """The CRDs among some objects, converted to JSON schemas only when a custom resource asks
    (a big render may carry hundreds of CRDs, most of which no object in it uses)."""

    def __init__(self, objects: Iterable[RenderedObject], *, strict: bool) -> None:
        self.strict = strict
        self._raw: dict[tuple[str, str], Mapping[str, Any]] = {}
        self._converted: dict[tuple[str, str], dict[str, Any]] = {}
        for obj in objects:
            if is_crd(obj.obj):
                for api_version, kind, schema in _served_versions(obj.obj):
                    self._raw[(api_version, kind)] = schema  # a later CRD wins, as in the cluster

    def get(self, key: tuple[str, str]) -> dict[str, Any] | None:
        if key not in self._converted:
            raw = self._raw.get(key)
            if raw is None:
                return None
            self._converted[key] = strictify(dict(raw), strict=self.strict)
        return self._converted[key]


def catalog_file(catalog: Path, api_version: str, kind: str) -> Path:
    """kubeconform's CRDs-catalog layout: ``{group}/{kind}_{version}.json`` (kind lower-cased)."""
    group, _, version = api_version.rpartition("/")
    return catalog / group / f"{kind.lower()}_{version}.json"


def check_catalogs(catalogs: Iterable[Path]) -> None:
    """Refuse a catalog holding a symlink out of itself (a schema read from ``/etc`` or a Secret
    mount): kubeconform reads the catalog's files directly, so the whole tree is checked up front."""
    for catalog in catalogs:
        check_tree(catalog, catalog, leaving=f"the CRD catalog {catalog}")


def load_catalog_schema(catalogs: Iterable[Path], api_version: str, kind: str) -> dict[str, Any] | None:
    for catalog in catalogs:
        path = catalog_file(catalog, api_version, kind)
        if path.is_file():
            # also for readers that did not run check_catalogs; and apiVersion comes from the repo
            contained(catalog, path, leaving=f"the CRD catalog {catalog}")
            loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            return loaded
    return None


def write_catalog(schemas: Mapping[tuple[str, str], Mapping[str, Any]], destination: Path) -> Path:
    """Write CRD schemas in the catalog layout (for kubeconform's ``-schema-location``)."""
    for (api_version, kind), schema in schemas.items():
        path = catalog_file(destination, api_version, kind)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(schema), encoding="utf-8")
    return destination
