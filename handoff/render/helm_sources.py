"""Where a Helm-rendered value came from: the template line of each key, and for images the values
file line that set them.

Templates are not YAML (``{{ if }}``, ``{{ toYaml … | nindent 8 }}``), so keys are located by their
indentation alone, with sequence indexes left out (a ``range`` loop makes them unknowable):
``spec.template.spec.containers[0].image`` is looked up as ``spec.template.spec.containers.image``.
Keys a helper or ``toYaml`` produced are not in the template; they resolve to their nearest parent.

Images: a rendered ``image:`` string equal to a values leaf (``image: nginx:1.27``), or whose tag or
digest is a values leaf next to a leaf naming the repository (``image.repository`` + ``image.tag``),
points at that leaf in the last values file (``-f`` order, then the chart's ``values.yaml``) setting it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from handoff.manifests.bounds import charge
from handoff.manifests.yamldocs import FilePositions, load_exact

_KEY = re.compile(r"""^(\s*)(-\s+)?("[^"]+"|'[^']+'|[A-Za-z0-9_./-]+)\s*:(?:\s|$)""")
_INDEX = re.compile(r"\[\d+\]")


def template_positions(text: str) -> dict[str, tuple[int, int]]:
    """Index-free dotted path -> (line, column) of every literal key in a template (first document wins)."""
    positions: dict[str, tuple[int, int]] = {}
    stack: list[tuple[int, str]] = []  # (column, key) of the open parents
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("---"):
            stack = []
            continue
        if not stripped or stripped.startswith(("#", "{{")):
            continue
        match = _KEY.match(line)
        if match is None:
            continue
        column = len(match.group(1)) + len(match.group(2) or "")
        key = match.group(3).strip("\"'")
        while stack and stack[-1][0] >= column:
            stack.pop()
        stack.append((column, key))
        positions.setdefault(".".join(k for _, k in stack), (number, column + 1))
    return positions


class IndexFreePositions(Mapping[str, tuple[int, int]]):
    """Positions keyed by paths without sequence indexes, looked up with indexed paths."""

    def __init__(self, positions: Mapping[str, tuple[int, int]]) -> None:
        self._positions = positions

    def __getitem__(self, key: str) -> tuple[int, int]:
        return self._positions[_INDEX.sub("", key)]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and _INDEX.sub("", key) in self._positions

    def __iter__(self) -> Iterator[str]:
        return iter(self._positions)

    def __len__(self) -> int:
        return len(self._positions)


@dataclass(frozen=True)
class ValueLeaf:
    file: str
    path: str
    value: str
    line: int
    column: int


class ValuesIndex:
    """String leaves of the values files, the file Helm applies last first."""

    def __init__(self, files: list[tuple[str, str]]) -> None:
        """``files``: (display name, text) in Helm's order (chart values.yaml first, then each -f)."""
        self.leaves: list[ValueLeaf] = []
        for name, text in reversed(files):
            charge(text, name)  # PyYAML's nodes cost more than the data: the render's budget counts them
            loaded = load_exact(text, name, strict=False)
            if not loaded.docs:
                continue
            positions = FilePositions(text).for_document(loaded.docs[0].index)
            for path, value in _string_leaves(loaded.docs[0].data, ""):
                line, column = positions.get(path, (1, 1))
                self.leaves.append(ValueLeaf(name, path, value, line, column))
        # looked up by value and by parent mapping: each image is one pass over the leaves, not one per leaf
        self._with_value: dict[str, list[ValueLeaf]] = {}
        self._under: dict[str, Counter[str]] = {}
        for leaf in self.leaves:
            self._with_value.setdefault(leaf.value, []).append(leaf)
            self._under.setdefault(_parent(leaf.path), Counter())[leaf.value] += 1

    def image_source(self, image: str) -> ValueLeaf | None:
        exact = self._with_value.get(image)
        if exact:
            return exact[0]
        repository, _, version = _split_image(image)
        if not version:
            return None
        named: dict[str, bool] = {}  # parent -> whether a sibling of a version leaf names the repository
        for leaf in self._with_value.get(version, ()):
            parent = _parent(leaf.path)
            if parent not in named:
                # the repository may come from another file: Helm merges values files key by key
                named[parent] = any(value and repository.endswith(value) and (value != version or count > 1)
                                    for value, count in self._under[parent].items())
            if named[parent]:
                return leaf
        return None


def _parent(path: str) -> str:
    return path.rpartition(".")[0]


def _split_image(image: str) -> tuple[str, str, str]:
    """``registry/repo:tag@sha256:…`` -> (repository, separator, tag or digest); the digest wins."""
    if "@" in image:
        repository, _, digest = image.partition("@")
        if ":" in repository.rsplit("/", 1)[-1]:  # repo:tag@digest
            repository = repository.rsplit(":", 1)[0]
        return repository, "@", digest
    name, colon, tag = image.rpartition(":")
    if not colon or "/" in tag:
        return image, "", ""
    return name, ":", tag


def _string_leaves(data: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(data, Mapping):
        for key, value in data.items():
            yield from _string_leaves(value, f"{path}.{key}" if path else str(key))
    elif isinstance(data, list):
        for i, item in enumerate(data):
            yield from _string_leaves(item, f"{path}[{i}]")
    elif isinstance(data, str | int | float) and not isinstance(data, bool):
        yield path, str(data)


def image_sources(obj: Mapping[str, Any], index: ValuesIndex) -> dict[str, tuple[str, int, int]]:
    """Rendered path of each ``image`` string -> (values file, line, column) that set it."""
    found: dict[str, tuple[str, int, int]] = {}
    for path, image in _images(obj, ""):
        leaf = index.image_source(image)
        if leaf is not None:
            found[path] = (leaf.file, leaf.line, leaf.column)
    return found


def _images(data: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(data, Mapping):
        for key, value in data.items():
            child = f"{path}.{key}" if path else str(key)
            if key == "image" and isinstance(value, str):
                yield child, value
            else:
                yield from _images(value, child)
    elif isinstance(data, list):
        for i, item in enumerate(data):
            yield from _images(item, f"{path}[{i}]")
