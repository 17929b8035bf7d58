"""Refusing, before any renderer runs, every reference in the render inputs that would reach the network.

Kustomize fetches whatever a kustomization names that is not a local file or directory: ``resources``,
``bases``, ``components`` and generator/transformer entries as git repositories (``https://…``,
``git@…``, ``ssh://…``, ``git::…``, ``github.com/org/repo//path?ref=…``), patch and generator files over
HTTP, and ``helmCharts`` from their ``repo``. Helm fetches nothing for ``helm template`` but a dependency
missing from ``charts/`` is refused here as well, with its place. Every entry must therefore be a path
that exists in the repository, or a remote the operator allow-listed pinned (``handoff.render.policy``);
the repository cannot allow-list anything. The walk follows local directories (bases, components,
generators) from the render root, each once.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from handoff.errors import RenderError
from handoff.manifests.plain import display_name, parse, read_text
from handoff.manifests.yamldocs import FilePositions, LoadedFile
from handoff.render.chart_files import chart_files
from handoff.render.kustomize_fields import (
    INLINE_LISTS,
    generator_file_path,
    inline_document,
    refuse_case_variants,
    refuse_tagged,
)

KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
_MAX_DEPTH = 50
# entries that are paths (or, for kustomize, URLs it would fetch)
_PATH_LISTS = ("resources", "bases", "components", "crds", "configurations", "generators", "transformers",
               "validators", "patchesStrategicMerge")
_PLUGIN_LISTS = ("generators", "transformers", "validators")
# the fields of kustomize's built-in plugin configs that name a file (``files`` as ``key=path``), at any
# depth (``replacements[].path``); ``fieldSpecs[].path`` is a field path, never remote-looking
_PLUGIN_FILE_KEYS = frozenset({"path", "paths", "files", "envs", "env", "repo", "chartRepoUrl", "chartHome",
                               "valuesFile", "additionalValuesFiles"})
_PATH_ITEMS = ("patches", "patchesJson6902", "replacements")  # lists of mappings with a `path`
_GENERATOR_LISTS = ("configMapGenerator", "secretGenerator")
# kustomize takes these as remote before it looks on disk: a file committed at `envs/dev/https:/host/x.yaml`
# must not make `https://host/x.yaml` pass as local
_REMOTE_FIRST = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.-]*://|git@|git::|(?:github\.com|gitlab\.com|bitbucket\.org)/)|"
                           r"\?ref=|.//")
# and these when nothing on disk has the name (a `host.tld/org/repo` form)
_HOSTLIKE = re.compile(r"^[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+(?::\d+)?/")
# JSON-schema keywords Helm's validator resolves as URIs: anything but a fragment of the same document is
# fetched (http/https, even on loopback) or opened on the host (file://, and relative refs, which resolve
# against file:///, not the chart). ``$id`` only names a base and fetches nothing.
_SCHEMA_REFS = frozenset({"$ref", "$dynamicRef", "$recursiveRef"})
# the drafts the validator carries built in (``$schema`` naming any other URI is fetched)
_KNOWN_META = re.compile(r"^https?://json-schema\.org/(?:draft-0[4-7]/schema|draft/20(?:19-09|20-12)/schema)#?$")


def kustomization_file(directory: Path) -> Path | None:
    for name in KUSTOMIZATION_NAMES:
        if (directory / name).is_file():
            return directory / name
    return None


def looks_remote(entry: str) -> bool:
    """A URL, an scp-like git address, a ``host.tld/…`` or ``repo//subdir`` form kustomize clones."""
    return _REMOTE_FIRST.search(entry) is not None or _HOSTLIKE.match(entry) is not None


class RemoteScan:
    """One scan of a render's inputs; ``uses_allowed`` says whether an allow-listed remote is named
    (the child then runs with the network, still with the sandboxed environment)."""

    def __init__(self, root: Path, allowed: frozenset[str]) -> None:
        self.root = root
        self.allowed = allowed
        self.uses_allowed = False
        self._seen: set[tuple[Path, bool]] = set()
        self._charts: set[Path] = set()

    def kustomization(self, directory: Path, depth: int = 0, *, plugins: bool = False) -> None:
        """Scan the kustomization in ``directory``; ``plugins`` when it was named as a generator or
        transformer directory, whose ``resources`` are then plugin configs to scan too."""
        kfile = kustomization_file(directory)
        resolved = directory.resolve()
        if kfile is None or (resolved, plugins) in self._seen or depth > _MAX_DEPTH:
            return
        self._seen.add((resolved, plugins))
        name = display_name(kfile, self.root)
        text = read_text(kfile, name)
        loaded = refuse_unreadable(parse(text, name, strict=False), name)
        spec: Any = loaded.docs[0].data if loaded.docs else None
        if not isinstance(spec, Mapping):
            return
        refuse_tagged(text, name)
        positions = FilePositions(text).for_document(loaded.docs[0].index)
        refuse_case_variants(spec, name, positions)
        for key, entry in _entries(spec):
            where = (name, positions.get(key, (None, 1))[0], key)
            if key.startswith("helmCharts"):
                self._remote(entry, where, what="a Helm chart repository")
                continue
            target = directory / entry
            as_plugin = key.startswith(_PLUGIN_LISTS) or (plugins and key.startswith("resources"))
            if _REMOTE_FIRST.search(entry):
                self._remote(entry, where, what="a remote kustomize reference")
            elif target.exists():
                if target.is_dir():
                    self.kustomization(target, depth + 1, plugins=as_plugin)
                elif as_plugin:
                    shown = display_name(target, self.root)
                    self._plugin_config(read_text(target, shown), (shown, None, key))
            else:
                self._remote(entry, where, what="a remote kustomize reference" if looks_remote(entry) else "")
        for key in _PLUGIN_LISTS:  # inline plugin configs (the multi-line entries skipped above)
            for i, inline in enumerate(_list(spec.get(key))):
                if isinstance(inline, str) and inline_document(inline):
                    line = positions.get(f"{key}[{i}]", (None, 1))[0]
                    self._plugin_config(inline, (name, line, f"{key}[{i}]"))

    def _plugin_config(self, text: str, where: tuple[str, int | None, str]) -> None:
        """A built-in generator/transformer config (``PatchTransformer``, ``ConfigMapGenerator``…):
        kustomize fetches an http(s) URL in its file fields (``path``, ``paths``, ``files``, ``envs``…)."""
        loaded = refuse_unreadable(parse(text, where[0], strict=False), where[0])
        refuse_tagged(text, where[0], where[2] if where[1] is not None else "", where[1])
        for doc in loaded.docs:
            refuse_case_variants(doc.data, where[0], {}, where[2] if where[1] is not None else "")
            for value in _plugin_files(doc.data):
                if _REMOTE_FIRST.search(value):
                    self._remote(value, where,
                                 what="a remote file in a kustomize generator/transformer config")

    def chart(self, chart: Path, depth: int = 0) -> None:
        chart_yaml = chart / "Chart.yaml"
        if not chart_yaml.is_file() or chart.resolve() in self._charts or depth > _MAX_DEPTH:
            return
        self._charts.add(chart.resolve())
        name = display_name(chart_yaml, self.root)
        text = read_text(chart_yaml, name)
        loaded = parse(text, name, strict=False)
        spec: Any = loaded.docs[0].data if loaded.docs else None
        dependencies = spec.get("dependencies") if isinstance(spec, Mapping) else None
        positions = FilePositions(text).for_document(loaded.docs[0].index) if loaded.docs else {}
        for i, dep in enumerate(dependencies if isinstance(dependencies, list) else ()):
            if not isinstance(dep, Mapping) or _vendored(chart, dep):
                continue
            key = f"dependencies[{i}]"
            line = positions.get(f"{key}.name", positions.get(key, (None, 1)))[0]
            repository = str(dep.get("repository") or "")
            origin = f" from {repository}" if repository else ""
            raise RenderError(f"chart dependency {dep.get('name')!r}{origin} is not vendored "
                              "under charts/: handoff does not fetch at render time (run "
                              "`helm dependency build` and commit charts/)", file=name, line=line, key=key)
        for sub in sorted((chart / "charts").glob("*/Chart.yaml")):
            self.chart(sub.parent, depth + 1)
        if depth == 0:
            for shown, text in chart_files(chart, "values.schema.json", self.root):
                refuse_schema_refs(text, shown)

    def _remote(self, entry: str, where: tuple[str, int | None, str], *, what: str) -> None:
        if entry in self.allowed:
            self.uses_allowed = True
            return
        file, line, key = where
        if what:
            raise RenderError(f"{what} {entry!r} is refused: nothing is fetched at render time (vendor "
                              "it, or have the operator allow-list it pinned with --allow-remote)", file=file,
                              line=line, key=key)
        raise RenderError(f"{entry!r} is not a file or directory in the repository (kustomize would try to "
                          "fetch it)", file=file, line=line, key=key)


def refuse_unreadable(loaded: LoadedFile, name: str) -> LoadedFile:
    """``loaded`` when handoff could read the whole kustomization; else a RenderError. A file our
    parser rejects (nesting over its depth bound, say) but kustomize's accepts would otherwise go
    unscanned, and kustomize would fetch what it names: the scan fails closed."""
    if loaded.findings:
        first = loaded.findings[0]
        raise RenderError(f"kustomization not checked, so not rendered: {first.message}", file=name,
                          line=first.line)
    return loaded


def _entries(spec: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(key, path or URL) of every kustomization entry that names something to load."""
    for key in _PATH_LISTS:
        for i, entry in enumerate(_list(spec.get(key))):
            if isinstance(entry, str) and not (key in INLINE_LISTS and inline_document(entry)):
                yield f"{key}[{i}]", entry
    for key in _PATH_ITEMS:
        for i, entry in enumerate(_list(spec.get(key))):
            if isinstance(entry, Mapping) and isinstance(entry.get("path"), str):
                yield f"{key}[{i}].path", entry["path"]
    openapi = spec.get("openapi")
    if isinstance(openapi, Mapping) and isinstance(openapi.get("path"), str):
        yield "openapi.path", openapi["path"]
    for key in _GENERATOR_LISTS:
        for i, generator in enumerate(_list(spec.get(key))):
            if not isinstance(generator, Mapping):
                continue
            for j, file in enumerate(_list(generator.get("files"))):
                if isinstance(file, str):
                    yield f"{key}[{i}].files[{j}]", generator_file_path(file) or file
            for j, env in enumerate(_list(generator.get("envs"))):
                if isinstance(env, str):
                    yield f"{key}[{i}].envs[{j}]", env
            if isinstance(generator.get("env"), str):
                yield f"{key}[{i}].env", generator["env"]
    for i, chart in enumerate(_list(spec.get("helmCharts"))):
        if isinstance(chart, Mapping) and chart.get("repo"):
            yield f"helmCharts[{i}].repo", str(chart["repo"])


def _plugin_files(node: Any) -> Iterator[str]:
    """Every string under a ``_PLUGIN_FILE_KEYS`` key anywhere in ``node``."""
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key in _PLUGIN_FILE_KEYS:
                for item in value if isinstance(value, list) else [value]:
                    if isinstance(item, str):
                        yield (generator_file_path(item) or item) if key == "files" else item
            yield from _plugin_files(value)
    elif isinstance(node, list):
        for item in node:
            yield from _plugin_files(item)


def refuse_schema_refs(text: str, file: str) -> None:
    """Refuse a ``values.schema.json`` naming any schema but its own fragments (``#/definitions/x``),
    with the JSON pointer of the keyword: Helm would fetch or read it at render time."""
    try:
        # Helm strips a byte-order mark, then parses; numbers stay text (Go reads a 5,000-digit integer that
        # Python's int conversion refuses, and a refusal here must not pass the file on unchecked)
        schema = json.loads(text.removeprefix("\ufeff"), parse_int=str, parse_float=str, parse_constant=str)
    except ValueError:
        return  # not JSON: Helm refuses it itself, reading nothing else
    except RecursionError:
        raise RenderError("nested too deep to check its schema references", file=file) from None
    stack: list[tuple[str, Any]] = [("", schema)]
    while stack:
        pointer, node = stack.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, value in items:
            here = f"{pointer}/{str(key).replace('~', '~0').replace('/', '~1')}"
            if isinstance(value, str) and _fetched(str(key), value):
                raise RenderError(f"schema reference {value!r} is refused: Helm would fetch or read "
                                  "it at render time (only #/… fragments of the same file are allowed; "
                                  "inline the schema)", file=file, key=here)
            stack.append((here, value))


def _fetched(key: str, value: str) -> bool:
    if key in _SCHEMA_REFS:
        return not value.startswith("#")
    return key == "$schema" and _KNOWN_META.match(value) is None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


_CHART_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def _vendored(chart: Path, dep: Mapping[str, Any]) -> bool:
    """As Helm matches them: a subchart under ``charts/`` whose name is the dependency's (a directory,
    however named, or a ``<name>-<version>.tgz`` archive)."""
    name = str(dep.get("name") or "")
    charts = chart / "charts"
    if not _CHART_NAME.fullmatch(name) or not charts.is_dir():
        return False  # a name that is not a plain name ("../x", "**") is never made a path or a pattern
    archives = [e.name for e in os.scandir(charts) if e.name.endswith(".tgz")]
    if (charts / name / "Chart.yaml").is_file() or any(a.startswith(name) for a in archives):
        return True
    return any(_chart_name(sub) == name for sub in charts.glob("*/Chart.yaml"))


def _chart_name(chart_yaml: Path) -> str:
    try:
        text = read_text(chart_yaml, str(chart_yaml))
    except RenderError:
        return ""
    loaded = parse(text, str(chart_yaml), strict=False)
    data = loaded.docs[0].data if loaded.docs else None
    return str(data.get("name") or "") if isinstance(data, Mapping) else ""
