"""Refusing keys kustomize would read under another spelling than the one handoff's scans read.

kustomize unmarshals a kustomization and every builtin plugin config through sigs.k8s.io/yaml into Go
structs with ``encoding/json``, which matches field names ignoring case, Unicode simple folding included:
``Resources:``, ``ConfigMapGenerator:``, ``FILES:`` or ``fileſ:`` (U+017F LONG S folds to ``s``, U+212A
KELVIN SIGN to ``k``) are read as ``resources``, ``configMapGenerator`` and ``files``. go-yaml also decodes
a ``!!binary`` scalar (``!!binary cmVzb3VyY2Vz:`` is ``resources:``) and turns a ``!!timestamp`` into
another text, where handoff's YAML reading keeps what is written. The input and remote scans read exact
keys, so before they run, any key that folds to a known field but is spelled otherwise, any non-ASCII key
outside the free-form maps, any key tagged other than ``!!str`` and any value tagged other than a core
scalar or collection tag is refused. No real repository spells them so.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from handoff.errors import RenderError
from handoff.manifests.plain import parse
from handoff.manifests.yamldocs import MERGE_TAG, explicit_tags

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


_KEY_TAGS = frozenset({"tag:yaml.org,2002:str"})
# tags go-yaml reads to the value handoff reads (``tagged_scalar``): every other one (binary, timestamp,
# set, omap, a local ``!tag``) may decode to something else
_VALUE_TAGS = frozenset(f"tag:yaml.org,2002:{name}" for name in ("str", "int", "bool", "float", "null", "map",
                                                                  "seq"))


def refuse_tagged(text: str, file: str, inside: str = "", line: int | None = None) -> None:
    """Refuse ``text`` (a kustomization or plugin config of ``file``; ``inside``: the key, at ``line``, of
    the inline document it is) when a key is tagged other than ``!!str`` or is not a scalar, or a value is
    tagged other than a core tag: go-yaml decodes them to what handoff's scans never read."""
    for node in explicit_tags(text):
        if node.key and node.tag == MERGE_TAG:
            shown = f"{inside}: {node.path}" if inside else node.path
            raise RenderError("a merge key (<<) in a kustomize input: kustomize applies it in the order "
                              "written (a later merged key overrides an earlier one), handoff's reader does "
                              "not, so they would read different fields: write the keys out", file=file,
                              line=line if inside else node.line, key=shown or None)
        if node.key and (not node.scalar or node.tag):
            if node.tag in _KEY_TAGS:
                continue
            what = f"a key tagged {_short(node.tag)}" if node.tag else "a key that is not a plain scalar"
        elif not node.key and node.tag not in _VALUE_TAGS:
            what = f"a value tagged {_short(node.tag)}"
        else:
            continue
        shown = f"{inside}: {node.path}" if inside else node.path
        raise RenderError(f"{what} in a kustomize input is read by kustomize as what it decodes to, not as "
                          "written: write it as a plain string", file=file,
                          line=line if inside else node.line, key=shown or None)


def _short(tag: str) -> str:
    return "!!" + tag.removeprefix("tag:yaml.org,2002:") if tag.startswith("tag:yaml.org,2002:") else tag


def refuse_case_variants(data: Any, file: str, positions: Mapping[str, tuple[int, int]],
                         inside: str = "") -> None:
    """Refuse a key anywhere in ``data`` (a kustomization or a plugin config of ``file``; ``inside``: the
    key of an inline document in it) that kustomize would read as a known field spelled otherwise, or that
    is not ASCII (outside the free-form maps): Go folds some non-ASCII letters onto ASCII ones."""
    stack: list[tuple[str, Any]] = [("", data)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, Mapping):
            for key, value in node.items():
                here = f"{path}.{key}" if path else str(key)
                fields = _FOLDED.get(key.lower(), set()) if isinstance(key, str) else set()
                shown = f"{inside}: {here}" if inside else here
                line = positions.get(inside or here, (None, None))[0]
                if isinstance(key, str) and not key.isascii():
                    raise RenderError(f"{key!r} is not ASCII: kustomize matches field names folding Unicode "
                                      "(U+017F is 's', U+212A is 'k'), so it may read it as another field",
                                      file=file, line=line, key=shown)
                if fields and key not in fields:
                    field = min(fields)
                    raise RenderError(f"{key!r} is read by kustomize as {field!r} (it matches field names "
                                      f"ignoring case): spell it {field!r}", file=file, line=line, key=shown)
                if not (key in _FREE_FORM and isinstance(value, Mapping)):
                    stack.append((here, value))
        elif isinstance(node, list):
            stack.extend((f"{path}[{i}]", item) for i, item in enumerate(node))


__all__ = ["KNOWN_FIELDS", "refuse_case_variants", "refuse_tagged"]


def generator_file_path(source: str) -> str | None:
    """The path of a generator ``files`` entry (``key=path`` or ``path``) as kustomize's
    ``ParseFileSource`` reads it; None when kustomize refuses it (more than one ``=``: the scans then check
    the entry whole, the source index skips it, so no two readers pick different ``=``)."""
    if source.count("=") > 1:
        return None
    return source.partition("=")[2] if "=" in source else source


# the kustomization lists whose entries may be inline documents (a patch, a plugin config) instead of paths
INLINE_LISTS = ("patchesStrategicMerge", "generators", "transformers", "validators")


def inline_document(entry: str) -> bool:
    """Whether an entry of an ``INLINE_LISTS`` list is an inline document: a YAML mapping spread over lines.
    Anything else, ``x\n/../../other`` included, kustomize reads as a path (a directory named ``x\n`` exists),
    so every scan checks it as one."""
    if "\n" not in entry:
        return False
    try:
        loaded = parse(entry, "inline", strict=False)
    except RenderError:
        return False
    return any(isinstance(doc.data, Mapping) for doc in loaded.docs)
