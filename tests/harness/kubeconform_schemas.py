"""Offline JSON schemas for ``kubeconform -schema-location``, built from the ``kubernetes-validate`` package.

kubernetes-validate ships per-version schemas named like kubeconform's (``deployment-apps-v1.json``), but with an
``https://kubernetes.io/api/...`` ``$id`` and ``$ref`` to ``/api/_definitions.json``, which kubeconform would fetch over
HTTP. We copy them once into ``.tools/kubeconform-schemas/`` without the ``$id`` and with the reference made relative,
so kubeconform resolves it next to the file and never reaches the network.
"""

import json
import os
import re
import shutil
import tempfile
from importlib import metadata, resources
from pathlib import Path

from tests.harness.paths import TOOLS_DIR

_ABSOLUTE_DEFINITIONS = '"$ref": "/api/_definitions.json#'
_RELATIVE_DEFINITIONS = '"$ref": "_definitions.json#'


def _source_root() -> Path:
    return Path(str(resources.files("kubernetes_validate").joinpath("kubernetes-json-schema")))


def available_versions() -> list[str]:
    """Kubernetes minor versions with schemas, like ``1.35``."""
    found = (re.fullmatch(r"v(\d+\.\d+)\.0-local", p.name) for p in _source_root().iterdir())
    return sorted((m.group(1) for m in found if m), key=lambda v: tuple(int(x) for x in v.split(".")))


def _minor(k8s_version: str) -> str:
    match = re.fullmatch(r"v?(\d+)\.(\d+)(\.\d+)?", k8s_version.strip())
    if match is None:
        raise ValueError(f"not a Kubernetes version: {k8s_version!r} (expected like 1.35 or v1.35.0)")
    return f"{match.group(1)}.{match.group(2)}"


def _convert(source: Path, target: Path) -> None:
    target.mkdir(parents=True)
    for schema_file in source.iterdir():
        schema = json.loads(schema_file.read_text().replace(_ABSOLUTE_DEFINITIONS, _RELATIVE_DEFINITIONS))
        # Without its https://kubernetes.io/... $id, a schema's relative $ref resolves against its own file.
        schema.pop("$id", None)
        (target / schema_file.name).write_text(json.dumps(schema))


def schema_dir(k8s_version: str) -> Path:
    """Directory holding ``<version>-local`` and ``<version>-local-strict`` kubeconform-ready schemas."""
    minor = _minor(k8s_version)
    if minor not in available_versions():
        raise ValueError(
            f"no schemas for Kubernetes {minor}; kubernetes-validate has {', '.join(available_versions())}"
        )
    package_version = metadata.version("kubernetes-validate")
    root = TOOLS_DIR / "kubeconform-schemas" / f"kubernetes-validate-{package_version}" / f"v{minor}.0"
    if root.is_dir():
        return root
    root.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".v{minor}.0-", dir=root.parent))
    try:
        for suffix in ("", "-strict"):
            _convert(_source_root() / f"v{minor}.0-local{suffix}", staging / f"v{minor}.0-local{suffix}")
        try:
            os.rename(staging, root)
        except OSError:
            if not root.is_dir():  # lost a race with another test process that finished first: fine
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return root


def kubeconform_schema_location(k8s_version: str) -> str:
    """A ``-schema-location`` template for kubeconform (works with and without ``-strict``) for that version."""
    minor = _minor(k8s_version)
    return f"{schema_dir(minor)}/v{minor}.0-local{{{{ .StrictSuffix }}}}/{{{{ .ResourceKind }}}}{{{{ .KindSuffix }}}}.json"
