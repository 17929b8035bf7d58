"""A render's inputs, checked before any renderer runs: nothing it reads lies outside the source root.

Helm reads every file of a chart (``.Files.Get`` included) and follows symlinks; kustomize reads the
files and directories its kustomizations reference (and may walk ``../`` up); the plain reader reads
the manifest files of a tree. Each is checked once per render through ``handoff.pathsafe``, walking
only those inputs: a chart directory, the referenced kustomize entries, the manifest tree.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from handoff.errors import RenderError
from handoff.manifests.bounds import NodeBudget, read_capped
from handoff.manifests.plain import MANIFEST_SUFFIXES, display_name, expand_document, parse, read_text
from handoff.manifests.yamldocs import FilePositions, file_limits, load_documents
from handoff.pathsafe import check_tree, contained
from handoff.render.base import RenderSource
from handoff.render.kustomize import kustomization_file
from handoff.render.kustomize_fields import (
    INLINE_LISTS,
    generator_file_path,
    inline_document,
    refuse_case_variants,
    refuse_tagged,
)
from handoff.render.policy import current
from handoff.render.remote import refuse_unreadable

# kustomization keys whose entries are paths (a string with a line break is an inline document)
_PATH_LISTS = ("resources", "bases", "components", "crds", "configurations", "patchesStrategicMerge",
               "generators", "transformers", "validators")
_DIRECTORY_KEYS = ("resources", "bases", "components")  # a directory entry is another kustomization
_PATH_ITEMS = ("patches", "patchesJson6902", "replacements")  # entries are {path: …} or inline
_PLUGIN_LISTS = ("generators", "transformers", "validators")
_GENERATORS = ("configMapGenerator", "secretGenerator")
# what a kustomization under a plugin list may hold: its documents are plugin configs checked as such, and any
# other field (a patch, a replacement, its own generators) would change them where no check sees the result
_PLUGIN_DIRECTORY_FIELDS = ("apiVersion", "kind", "metadata", "resources")
# kustomize (5.8) spends time superlinear in the entries of one mapping (50,000 keys: 11 s, 100,000: 91 s,
# 600,000: over 11 min and 600 MiB) whatever the node budget says; no real resource comes near this
MAX_KUSTOMIZE_ENTRIES = 10_000


def input_root(repo: Path, path: Path) -> Path:
    """The root a render of ``path`` must stay in: the config repo when ``path`` is inside it
    (lexically: a link out of the repo is what the check refuses), else ``path`` itself (an explicit
    PATH outside the repo, such as ``handoff validate /tmp/x``, reads only its own tree)."""
    full = Path(os.path.abspath(path))  # noqa: PTH100 (keep the links: resolving would hide them)
    for base in (Path(os.path.abspath(repo)), repo.resolve()):  # noqa: PTH100
        if full == base or base in full.parents:
            return repo
    return path if path.is_dir() else path.parent


def check_inputs(root: Path, source: RenderSource, kind: str) -> None:
    """Refuse ``source`` (rendered as ``kind``) when anything it would read resolves outside ``root``."""
    contained(root, source.path)
    for values in source.values:
        contained(root, values)
    directory = source.path if source.path.is_dir() else source.path.parent
    if kind == "helm":
        # helm loads the whole chart, hidden files and subcharts included (a .git directory too; the one at
        # the top of a chart at the repo root is left out of what helm is given: ``helm.template``)
        check_tree(root, directory, refuse_git_dirs=True)
    elif kind == "kustomize":
        _KustomizeInputs(root).check(directory)
    elif source.path.is_dir():
        # what ``manifests.plain.named_manifests`` reads: non-hidden manifest files, links to
        # directories listed but not followed
        check_tree(root, source.path, descend=_visible, reads=_manifest, follow=False)


def _visible(name: str) -> bool:
    return not name.startswith(".")


def _manifest(name: str) -> bool:
    return _visible(name) and name.endswith(MANIFEST_SUFFIXES)


class _KustomizeInputs:
    """Every file and directory a kustomization tree references, checked entry by entry so that an
    escape names the kustomization file, line and key that asked for it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.seen: set[Path] = set()
        self.files: set[Path] = set()
        limits = current().limits
        # what kustomize will read, bounded before it runs as its output is after: the same caps
        self.nodes = NodeBudget(limits.max_nodes)
        self.bytes_left = limits.max_total_bytes
        # the keys generators will write (a literal, a file, an env line each), over the whole tree: one
        # generator's ConfigMap is one mapping, and same-named generators of overlays merge into one
        self.generated_left = MAX_KUSTOMIZE_ENTRIES

    def check(self, directory: Path) -> None:
        real = directory.resolve()
        if real in self.seen:
            return
        self.seen.add(real)
        kfile = kustomization_file(directory)
        if kfile is None:
            return
        contained(self.root, kfile)
        kname = display_name(kfile, self.root)
        text = read_text(kfile, kname)
        loaded = refuse_unreadable(parse(text, kname, strict=False), kname)
        if not loaded.docs or not isinstance(loaded.docs[0].data, Mapping):
            return  # kustomize itself reports what is wrong with the file
        refuse_tagged(text, kname)
        positions = FilePositions(text).for_document(loaded.docs[0].index)
        refuse_case_variants(loaded.docs[0].data, kname, positions)
        _refuse_wide(loaded.docs[0].data, kname, positions)  # each inline patch or config:
        for key, inline in _multiline_strings(loaded.docs[0].data, ""):
            for doc in load_documents(inline, kname, strict=False, limits=file_limits()).docs:
                _refuse_wide(doc.data, kname, positions, inside=key)
        for key, count in _literal_counts(loaded.docs[0].data):
            self._charge_generated(count, kname, key, positions)
        for key, entry in _references(loaded.docs[0].data):
            line = positions.get(key, positions.get(key.rpartition(".")[0], (None, None)))[0]
            self._reference(directory, kname, key, entry, positions, line=line)
        # a builtin plugin's config (``generators: [gen.yaml]`` holding a ConfigMapGenerator, or inline)
        # names paths kustomize reads from this kustomization's directory, like the fields above
        for shown, config, config_positions, inside in self._plugin_configs(directory, loaded.docs[0].data,
                                                                             kname, positions):
            refuse_case_variants(config, shown, config_positions, inside)
            for sub, entry in _plugin_references(config):
                at = config_positions.get(sub, config_positions.get(sub.rpartition(".")[0], (None, None)))
                key = f"{inside}: {sub}" if inside else sub
                self._reference(directory, shown, key, entry, config_positions, line=at[0],
                                generated=sub.startswith(("files", "envs", "env")))
            if isinstance(config.get("literals"), list):
                key = f"{inside}: literals" if inside else "literals"
                self._charge_generated(len(config["literals"]), shown, key, config_positions)

    def _reference(self, directory: Path, kname: str, key: str, entry: str,
                   positions: Mapping[str, tuple[int, int]], *, line: int | None,
                   generated: bool | None = None) -> None:
        """Check (and charge) one local path the kustomization (or plugin config) ``kname`` names at
        ``key``; ``generated``: a generator's input (any bytes), by default told from the key."""
        if "://" in entry:
            return  # a remote: not a file here (whether it may be fetched is decided elsewhere)
        target = directory / entry
        real_target = contained(self.root, target, written=entry, source=kname, line=line, key=key)
        if real_target.is_dir():
            if key.startswith(_DIRECTORY_KEYS):
                self.check(target)
            else:
                check_tree(self.root, target)
        elif real_target.is_file():
            shown = display_name(target, self.root)
            generated = key.startswith(_GENERATORS) if generated is None else generated
            data = self._charge(real_target, shown, yaml=not generated)
            if generated:
                self._charge_generated(_env_entries(data) if _is_env(key) else 1, kname, key, positions)

    def _plugin_configs(self, directory: Path, spec: Mapping[str, Any], kname: str,
                        positions: Mapping[str, tuple[int, int]],
                        ) -> Iterator[tuple[str, Mapping[str, Any], Mapping[str, tuple[int, int]], str]]:
        """``(file, config, its positions, key inside the kustomization or "")`` of every plugin config
        document under ``generators``, ``transformers`` and ``validators``: in a local file (already
        checked as a reference), in a directory (a kustomization of plugin configs: ``_directory_configs``),
        or inline (positions then the kustomization's)."""
        for field in _PLUGIN_LISTS:
            for i, entry in _items(spec.get(field)):
                if not isinstance(entry, str) or "://" in entry:
                    continue
                if inline_document(entry):
                    inside = f"{field}[{i}]"
                    line = positions.get(inside, (None, None))[0]
                    for config, _ in _configs_of(entry, kname, inside, line):
                        yield kname, config, positions, inside
                    continue
                path = directory / entry
                if path.is_dir():
                    yield from self._directory_configs(path, set())
                elif path.is_file():
                    yield from _config_documents(path, display_name(path, self.root))

    def _directory_configs(self, directory: Path, seen: set[Path],
                           ) -> Iterator[tuple[str, Mapping[str, Any], Mapping[str, tuple[int, int]], str]]:
        """The plugin configs a directory under a plugin list yields: kustomize builds it as a kustomization
        and takes every object as a config whose paths it resolves from the *outer* kustomization's directory.
        Only ``resources`` (files, or directories of the same form) are allowed in it, so that the configs
        kustomize uses are the documents read here."""
        real = directory.resolve()
        kfile = kustomization_file(directory)
        if real in seen or kfile is None:
            return  # kustomize itself refuses a cycle or a directory without a kustomization
        seen.add(real)
        contained(self.root, kfile)
        kname = display_name(kfile, self.root)
        text = read_text(kfile, kname)
        loaded = refuse_unreadable(parse(text, kname, strict=False), kname)
        if not loaded.docs or not isinstance(loaded.docs[0].data, Mapping):
            return
        spec = loaded.docs[0].data
        refuse_tagged(text, kname)
        positions = FilePositions(text).for_document(loaded.docs[0].index)
        refuse_case_variants(spec, kname, positions)
        for field in spec:
            if field not in _PLUGIN_DIRECTORY_FIELDS:
                raise RenderError("a kustomization of plugin configs (a directory under generators, "
                                  "transformers or validators) may hold only resources", file=kname,
                                  line=positions.get(str(field), (None, None))[0], key=str(field))
        for i, entry in _items(spec.get("resources")):
            if not isinstance(entry, str) or "://" in entry:
                continue  # kustomize refuses a non-string; a remote is the remote scan's to decide
            key = f"resources[{i}]"
            target = directory / entry
            found = contained(self.root, target, written=entry, source=kname,
                              line=positions.get(key, (None, None))[0], key=key)
            if found.is_dir():
                check_tree(self.root, target)
                yield from self._directory_configs(target, seen)
            elif found.is_file():
                shown = display_name(target, self.root)
                self._charge(found, shown, yaml=True)
                yield from _config_documents(target, shown)

    def _charge_generated(self, count: int, kname: str, key: str,
                          positions: Mapping[str, tuple[int, int]]) -> None:
        """Count ``count`` keys a generator entry writes against ``MAX_KUSTOMIZE_ENTRIES``."""
        self.generated_left -= count
        if self.generated_left < 0:
            line = positions.get(key, positions.get(key.rpartition(".")[0], (None, None)))[0]
            raise RenderError(f"configMapGenerator/secretGenerator entries over {MAX_KUSTOMIZE_ENTRIES} in "
                              "this kustomization tree (literals, files and env-file lines): kustomize would "
                              "take minutes on them", file=kname, line=line, key=key)

    def _charge(self, path: Path, shown: str, *, yaml: bool) -> bytes:
        """Count a file kustomize reads against the render's byte and node caps; a YAML input also may
        hold no mapping or sequence wider than ``MAX_KUSTOMIZE_ENTRIES``. Returns the file's bytes (a
        file charged already is read again but not counted twice)."""
        if path in self.files:
            return _read(path, shown)
        self.files.add(path)
        text = read_text(path, shown) if yaml else None
        data = text.encode() if text is not None else _read(path, shown)  # a generator's file: any bytes
        self.bytes_left -= len(data)
        if self.bytes_left < 0:
            cap = current().limits.max_total_bytes
            raise RenderError(f"kustomize inputs over the {cap}-byte total render cap "
                              "(HANDOFF_MAX_RENDER_TOTAL_BYTES)", file=shown)
        if text is None:
            return data
        self.nodes.charge(text, shown)
        for doc in load_documents(text, shown, strict=False, limits=file_limits()).docs:
            _refuse_wide(doc.data, shown, FilePositions(text).for_document(doc.index))
        return data


def _read(path: Path, shown: str) -> bytes:
    data = read_capped(path, file_limits())
    if data is None:
        raise RenderError(f"over the {file_limits().max_bytes}-byte file size limit (HANDOFF_MAX_FILE_BYTES)",
                          file=shown)
    return data


def _config_documents(path: Path, shown: str,
                      ) -> Iterator[tuple[str, Mapping[str, Any], Mapping[str, tuple[int, int]], str]]:
    """The plugin configs of the file ``path`` with their positions."""
    for config, positions in _configs_of(read_text(path, shown), shown):
        yield shown, config, positions, ""


def _configs_of(text: str, shown: str, inside: str = "", line: int | None = None,
                ) -> Iterator[tuple[Mapping[str, Any], Mapping[str, tuple[int, int]]]]:
    """The plugin configs ``text`` (of ``shown``, or inline at its key ``inside`` on ``line``) holds, each
    with its positions: every mapping document, the items of a ``kind: …List`` one expanded as kustomize's
    resource factory does (the manifests reader's)."""
    refuse_tagged(text, shown, inside, line)
    positions = FilePositions(text)
    for doc in load_documents(text, shown, strict=False, limits=file_limits()).docs:
        if isinstance(doc.data, Mapping):
            for item in expand_document(doc, shown, positions):
                yield item.obj, item.positions


def _is_env(key: str) -> bool:
    """Whether ``key`` (``configMapGenerator[0].envs[1]``, a plugin config's ``envs[0]`` or ``env``, maybe
    after ``generators[0]: ``) names an env file: told by its last field, whatever comes before it."""
    field = re.split(r"[.: ]", key)[-1].partition("[")[0]
    return field in ("env", "envs")


def _env_entries(data: bytes) -> int:
    """The keys an env file makes: each line that is neither blank nor a ``#`` comment (kustomize's rule)."""
    return sum(1 for line in data.splitlines() if line.strip() and not line.lstrip().startswith(b"#"))


def _literal_counts(spec: Mapping[str, Any]) -> Iterator[tuple[str, int]]:
    """``(key, count)`` of every generator's ``literals:`` list (key: ``configMapGenerator[0].literals``)."""
    for key in _GENERATORS:
        for i, entry in _items(spec.get(key)):
            if isinstance(entry, Mapping) and isinstance(entry.get("literals"), list):
                yield f"{key}[{i}].literals", len(entry["literals"])


def _refuse_wide(data: Any, file: str, positions: Mapping[str, tuple[int, int]], inside: str = "") -> None:
    """Refuse ``data`` (of ``file``, or of the inline document at key ``inside`` of it) holding a mapping
    or list wider than ``MAX_KUSTOMIZE_ENTRIES``."""
    wide = _widest(data)
    if wide is None:
        return
    path, size = wide
    key = f"{inside}: {path}" if inside and path else inside or path
    line = positions.get(inside or path, (None, None))[0]
    raise RenderError(f"{size} entries in one mapping or list (over {MAX_KUSTOMIZE_ENTRIES}): kustomize "
                      "would take minutes on it", file=file, line=line, key=key or None)


def _multiline_strings(node: Any, path: str) -> Iterator[tuple[str, str]]:
    """``(dotted path, text)`` of every string with a line break: inline patches and plugin configs."""
    if isinstance(node, Mapping):
        for key, value in node.items():
            yield from _multiline_strings(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from _multiline_strings(item, f"{path}[{i}]")
    elif isinstance(node, str) and "\n" in node:
        yield path, node


def _widest(data: Any) -> tuple[str, int] | None:
    """``(dotted path, size)`` of the first mapping or list in ``data`` over ``MAX_KUSTOMIZE_ENTRIES``."""
    stack: list[tuple[str, Any]] = [("", data)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, Mapping | list) and len(node) > MAX_KUSTOMIZE_ENTRIES:
            return path, len(node)
        if isinstance(node, Mapping):
            stack.extend((f"{path}.{key}" if path else str(key), value) for key, value in node.items())
        elif isinstance(node, list):
            stack.extend((f"{path}[{i}]", item) for i, item in enumerate(node))
    return None


def _plugin_references(config: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """``(key, path)`` for every local path a builtin plugin config names: a generator's ``files`` and
    ``envs`` (``env``), a patch's ``path`` (a strategic-merge transformer's ``paths``), each replacement's
    ``path``, Helm's ``chartHome``, ``valuesFile`` and ``additionalValuesFiles`` (kustomize reads them as the
    kustomization's own fields)."""
    for i, file in _items(config.get("files")):
        if isinstance(file, str):
            yield f"files[{i}]", generator_file_path(file) or file
    for field in ("envs", "paths", "additionalValuesFiles"):
        for i, entry in _items(config.get(field)):
            if isinstance(entry, str):
                yield f"{field}[{i}]", entry
    for name in ("env", "path", "chartHome", "valuesFile"):
        if isinstance(config.get(name), str):
            yield name, config[name]
    for i, item in _items(config.get("replacements")):
        if isinstance(item, Mapping) and isinstance(item.get("path"), str):
            yield f"replacements[{i}].path", item["path"]


def _references(spec: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """``(key, path)`` for every local path a kustomization names, the key as ``resources[0]``."""
    for key in _PATH_LISTS:
        for i, entry in _items(spec.get(key)):
            if isinstance(entry, str) and not (key in INLINE_LISTS and inline_document(entry)):
                yield f"{key}[{i}]", entry  # a line break in a path is a path (a directory "x\n" exists)
    for key in _PATH_ITEMS:
        for i, entry in _items(spec.get(key)):
            if isinstance(entry, Mapping) and isinstance(entry.get("path"), str):
                yield f"{key}[{i}].path", entry["path"]
    for key in _GENERATORS:
        for i, entry in _items(spec.get(key)):
            if not isinstance(entry, Mapping):
                continue
            for j, file in _items(entry.get("files")):
                if isinstance(file, str):
                    yield f"{key}[{i}].files[{j}]", generator_file_path(file) or file
            for j, env in _items(entry.get("envs")):
                if isinstance(env, str):
                    yield f"{key}[{i}].envs[{j}]", env
            if isinstance(entry.get("env"), str):
                yield f"{key}[{i}].env", entry["env"]
    for i, chart in _items(spec.get("helmCharts")):
        if isinstance(chart, Mapping):
            if isinstance(chart.get("valuesFile"), str):
                yield f"helmCharts[{i}].valuesFile", chart["valuesFile"]
            for j, values in _items(chart.get("additionalValuesFiles")):
                if isinstance(values, str):
                    yield f"helmCharts[{i}].additionalValuesFiles[{j}]", values
    for key, field in (("helmGlobals", "chartHome"), ("openapi", "path")):
        block = spec.get(key)
        if isinstance(block, Mapping) and isinstance(block.get(field), str):
            yield f"{key}.{field}", block[field]


def _items(value: Any) -> Iterator[tuple[int, Any]]:
    return enumerate(value) if isinstance(value, list) else iter(())


__all__ = ["MAX_KUSTOMIZE_ENTRIES", "check_inputs", "input_root"]
