"""Refusing keys kustomize would read under another spelling than the one handoff's scans read.

kustomize unmarshals a kustomization and every builtin plugin config through sigs.k8s.io/yaml into Go
structs with ``encoding/json``, which matches field names ignoring case: ``Resources:``,
``ConfigMapGenerator:`` or ``FILES:`` are read as ``resources``, ``configMapGenerator`` and ``files``. The
input and remote scans read exact keys, so any key that folds to a field kustomize knows but is spelled
otherwise is refused before they run. No real repository spells them so.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from handoff.errors import RenderError

# the JSON field names of kustomize's Kustomization type, its builtin plugin configs (generators,
# transformers, helm inflation, replacements, field specs) and their nested argument types
KNOWN_FIELDS = frozenset({
    # Kustomization, Component, metadata
    "apiVersion", "kind", "metadata", "name", "namespace", "labels", "annotations", "openapi",
    "namePrefix", "nameSuffix", "commonLabels", "commonAnnotations", "patchesStrategicMerge",
    "patchesJson6902", "patches", "images", "imageTags", "replacements", "replicas", "vars",
    "sortOptions", "resources", "components", "crds", "bases", "configMapGenerator", "secretGenerator",
    "helmGlobals", "helmCharts", "helmChartInflationGenerator", "generatorOptions", "configurations",
    "generators", "transformers", "validators", "buildMetadata",
    # generator arguments and options
    "behavior", "files", "envs", "env", "literals", "options", "type", "disableNameSuffixHash",
    "immutable",
    # patches, targets, selectors
    "path", "paths", "patch", "target", "group", "version", "labelSelector", "annotationSelector",
    "allowNameChange", "allowKindChange", "jsonOp",
    # replacements
    "source", "targets", "select", "reject", "fieldPath", "fieldPaths", "delimiter", "index", "create",
    # helm charts and globals
    "repo", "releaseName", "additionalValuesFiles", "valuesFile", "valuesInline", "valuesMerge",
    "includeCRDs", "skipHooks", "apiVersions", "kubeVersion", "nameTemplate", "skipTests", "debug",
    "chartHome", "configHome", "chartName", "chartVersion", "chartRepoUrl", "chartRepoName", "helmBin",
    "extraArgs", "helmHome",
    # images, replicas, vars
    "newName", "newTag", "digest", "tagSuffix", "count", "objref", "fieldref", "fieldpath",
    # sort options, labels entries, field specs, other builtin transformers
    "order", "legacySortOptions", "orderFirst", "orderLast", "pairs", "includeSelectors",
    "includeTemplates", "fields", "fieldSpecs", "prefix", "suffix", "unsetOnly",
    "setRoleBindingSubjects", "imageTag", "replica", "items",
})
_FOLDED: dict[str, set[str]] = {}
for _field in KNOWN_FIELDS:  # a few fold together (replacements' ``fieldPath``, vars' ``fieldpath``)
    _FOLDED.setdefault(_field.lower(), set()).add(_field)
# maps whose keys are data (label keys, Helm values), not fields: not descended into
_FREE_FORM = frozenset({"labels", "annotations", "commonLabels", "commonAnnotations", "pairs", "valuesInline",
                        "matchLabels"})


def refuse_case_variants(data: Any, file: str, positions: Mapping[str, tuple[int, int]],
                         inside: str = "") -> None:
    """Refuse a key anywhere in ``data`` (a kustomization or a plugin config of ``file``; ``inside``: the
    key of an inline document in it) that kustomize would read as a known field spelled otherwise."""
    stack: list[tuple[str, Any]] = [("", data)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, Mapping):
            for key, value in node.items():
                here = f"{path}.{key}" if path else str(key)
                fields = _FOLDED.get(key.lower(), set()) if isinstance(key, str) else set()
                if fields and key not in fields:
                    field = min(fields)
                    shown = f"{inside}: {here}" if inside else here
                    line = positions.get(inside or here, (None, None))[0]
                    raise RenderError(f"{key!r} is read by kustomize as {field!r} (it matches field names "
                                      f"ignoring case): spell it {field!r}", file=file, line=line, key=shown)
                if not (key in _FREE_FORM and isinstance(value, Mapping)):
                    stack.append((here, value))
        elif isinstance(node, list):
            stack.extend((f"{path}[{i}]", item) for i, item in enumerate(node))


__all__ = ["KNOWN_FIELDS", "refuse_case_variants"]
