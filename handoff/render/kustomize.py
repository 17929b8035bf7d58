"""Kustomize: ``kustomize build`` (or ``kubectl kustomize``), each output object mapped back to the
resource file it came from.

Kustomize drops comments and reorders keys, so its output has no useful lines. We walk the
kustomization tree (resources/bases/components, recursively), apply the namePrefix/nameSuffix of every
level to each resource's name, and match rendered objects to resource files by group, kind and name.
Positions then come from the resource file; paths a patch added fall back to their nearest parent.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from handoff.errors import HandoffError, PathEscapeError, RenderError
from handoff.manifests.bounds import Limits, read_capped
from handoff.manifests.model import RenderedObject, RenderResult
from handoff.manifests.plain import display_name, objects_from_text, parse, read_text
from handoff.manifests.sensitive import secret_strings
from handoff.manifests.yamldocs import FilePositions
from handoff.pathsafe import contained
from handoff.redact import mask_values
from handoff.render.base import RenderSource
from handoff.render.kustomize_fields import generator_file_path
from handoff.render.policy import CAP_HINT, MEMORY_HINT, current
from handoff.render.remote import KUSTOMIZATION_NAMES, RemoteScan, kustomization_file, looks_remote
from handoff.toolrun import find_tool, require_tool, run_tool

_MAX_DEPTH = 50
_GENERATORS = (("configMapGenerator", "ConfigMap"), ("secretGenerator", "Secret"))
_NAME_HASH = re.compile(r"-[a-z0-9]{10}$")  # the content hash kustomize appends to generated names


def build(directory: Path, root: Path | None = None) -> str:
    """The raw ``kustomize build`` output for ``directory``, once nothing in its tree would be fetched
    (``handoff.render.remote``; file names relative to ``root``), run sandboxed from ``directory``."""
    policy = current()
    scan = RemoteScan(root or directory, policy.allowed_remotes)
    scan.kustomization(directory)
    kustomize = find_tool("kustomize")
    tool = kustomize or require_tool("kubectl", "render Kustomize overlays (or install kustomize)")
    argv: list[str | Path] = [tool, "build", "."] if kustomize else [tool, "kustomize", "."]
    try:
        return run_tool(argv, what=f"{'kustomize build' if kustomize else 'kubectl kustomize'} {directory}",
                        cwd=directory, readable=[root or directory],
                        max_stdout=policy.limits.max_output_bytes, cap_hint=CAP_HINT,
                        max_rss=policy.limits.max_child_memory, memory_hint=MEMORY_HINT,
                        offline=not scan.uses_allowed)
    except RenderError as e:  # a failed replacement, patch or generator may quote a Secret's value: mask them
        raise RenderError(mask_values(str(e), _quotable(directory, root or directory))) from None


def _quotable(directory: Path, root: Path) -> list[str]:
    """What a failing ``kustomize build`` of ``directory`` could quote that must not be shown: generator
    literals and env-file lines (each whole and its value), generator files' lines, and the sensitive
    values of the tree's resource files (``manifests.sensitive``). What cannot be read is left out."""
    index = _SourceIndex(root)
    with contextlib.suppress(HandoffError):  # a part kustomize could not read either: the rest is masked
        index.add_tree(directory, _Naming())
    return [*index.generated_inputs, *secret_strings(o.obj for o in index.by_original.values())]


@dataclass(frozen=True)
class _Naming:
    prefix: str = ""
    suffix: str = ""

    def wrap(self, inner: _Naming) -> _Naming:
        return _Naming(self.prefix + inner.prefix, inner.suffix + self.suffix)


def _group(api_version: str) -> str:
    return api_version.rpartition("/")[0]


class _SourceIndex:
    """Resource objects of a kustomization tree, keyed by (group, kind, rendered name)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.by_name: dict[tuple[str, str, str], RenderedObject] = {}
        self.by_original: dict[tuple[str, str, str], RenderedObject] = {}
        self.generated: dict[tuple[str, str], tuple[str, int]] = {}  # (kind, name) -> (kustomization, line)
        self.generated_inputs: list[str] = []  # generator literals and file lines, for masking errors
        # each (kustomization, naming) once: cycles and diamonds (ka -> [kb, ka]) are walked once, not 2^depth
        self.visited: set[tuple[Path, _Naming]] = set()

    def add_tree(self, directory: Path, naming: _Naming, depth: int = 0) -> None:
        kfile = kustomization_file(directory)
        if kfile is None or depth > _MAX_DEPTH or (directory.resolve(), naming) in self.visited:
            return
        self.visited.add((directory.resolve(), naming))
        kname = display_name(kfile, self.root)
        text = read_text(kfile, kname)
        loaded = parse(text, str(kfile), strict=False)
        spec: Any = loaded.docs[0].data if loaded.docs else {}
        if not isinstance(spec, Mapping):
            return
        here = naming.wrap(_Naming(str(spec.get("namePrefix") or ""), str(spec.get("nameSuffix") or "")))
        self._add_generators(spec, kname, FilePositions(text).for_document(loaded.docs[0].index), here)
        self._add_generator_inputs(spec, directory)
        for key in ("resources", "bases", "components"):
            for entry in spec.get(key) or ():
                if not isinstance(entry, str) or looks_remote(entry):
                    continue  # remote bases are not in the repo: their objects keep the output position
                target = self._inside(directory / entry)
                if target is None:
                    continue
                if target.is_dir():
                    self.add_tree(target, here, depth + 1)
                elif target.is_file():
                    self._add_file(target, here)

    def _add_generators(self, spec: Mapping[str, Any], kname: str, positions: Mapping[str, tuple[int, int]],
                        naming: _Naming) -> None:
        """configMapGenerator/secretGenerator entries: their objects point at the entry's ``name:``."""
        for key, kind in _GENERATORS:
            entries = spec.get(key)
            for i, entry in enumerate(entries if isinstance(entries, list) else ()):
                if isinstance(entry, Mapping) and entry.get("name"):
                    line = positions.get(f"{key}[{i}].name", positions.get(f"{key}[{i}]", (1, 1)))[0]
                    name = naming.prefix + str(entry["name"]) + naming.suffix
                    self.generated.setdefault((kind, name), (kname, line))

    def _add_generator_inputs(self, spec: Mapping[str, Any], directory: Path) -> None:
        for key, _ in _GENERATORS:
            entries = spec.get(key)
            for entry in entries if isinstance(entries, list) else ():
                if not isinstance(entry, Mapping):
                    continue
                for literal in _strings(entry.get("literals")):
                    self.generated_inputs += [literal, literal.partition("=")[2]]
                for name in [*_strings(entry.get("envs")), *_strings(entry.get("env"))]:
                    # an env file's lines count against the entry budget (``inputs``): each is kept
                    for raw in self._read(directory / name).splitlines():  # quoted raw and as bytes
                        line = raw.decode(errors="replace")
                        self.generated_inputs += [line, line.partition("=")[2], " ".join(map(str, raw))]
                for source in _strings(entry.get("files")):
                    path = generator_file_path(source)  # a file is one value: kept whole, not per line
                    if path is not None:
                        self.generated_inputs.append(self._read(directory / path).decode(errors="replace"))

    def _inside(self, path: Path) -> Path | None:
        """``path`` when it stays inside the repo (outside ``.git``): the index opens nothing the input
        checks did not admit, whatever spelling reached it."""
        try:
            contained(self.root, path)
        except PathEscapeError:
            return None
        return path

    def _read(self, path: Path) -> bytes:
        """A generator input's bytes (capped, regular files inside the repo only), b"" otherwise."""
        inside = self._inside(path)
        if inside is None or not inside.is_file():
            return b""
        try:
            return read_capped(inside, Limits()) or b""
        except OSError:
            return b""

    def generator_of(self, rendered: RenderedObject) -> tuple[str, int] | None:
        ref = rendered.ref
        return self.generated.get((ref.kind, ref.name)) or \
            self.generated.get((ref.kind, _NAME_HASH.sub("", ref.name)))

    def _add_file(self, path: Path, naming: _Naming) -> None:
        file = display_name(path, self.root)
        for source in objects_from_text(read_text(path, file), file, strict=False).objects:
            ref = source.ref
            group = _group(ref.api_version)
            self.by_name.setdefault((group, ref.kind, naming.prefix + ref.name + naming.suffix), source)
            self.by_original.setdefault((group, ref.kind, ref.name), source)

    def source_of(self, rendered: RenderedObject) -> RenderedObject | None:
        ref = rendered.ref
        key = (_group(ref.api_version), ref.kind, ref.name)
        return self.by_name.get(key) or self.by_original.get(key)


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


class KustomizeRenderer:
    name = "kustomize"

    def render(self, root: Path, source: RenderSource) -> RenderResult:
        directory = source.path if source.path.is_dir() else source.path.parent
        kfile = kustomization_file(directory)
        if kfile is None:
            raise RenderError(f"{display_name(directory, root)}: no kustomization.yaml")
        output_name = display_name(kfile, root)
        rendered = objects_from_text(build(directory, root), output_name)
        index = _SourceIndex(root)
        index.add_tree(directory, _Naming())
        objects = []
        for obj in rendered.objects:
            origin = index.source_of(obj)
            if origin is None:  # generated (configMapGenerator, helmCharts) or from a remote base
                file, line = index.generator_of(obj) or (output_name, 1)
                objects.append(RenderedObject(obj=obj.obj, file=file, line=line))
            else:
                objects.append(RenderedObject(obj=obj.obj, file=origin.file, line=origin.line,
                                              positions=origin.positions))
        # resource files are the inputs users edit: list them so "N objects in M files" counts them
        files = tuple(dict.fromkeys(o.file for o in objects)) or (output_name,)
        return RenderResult(objects=tuple(objects), findings=rendered.findings, files=files)


__all__ = ["KUSTOMIZATION_NAMES", "KustomizeRenderer", "build", "kustomization_file"]
