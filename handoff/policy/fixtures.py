"""Objects from YAML text with a position for every JSON path, for policy fixtures and
``handoff policy test`` (the render layer is a sibling, so its plain loader is not importable here)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from handoff.errors import YamlError
from handoff.policy.yamlsource import plain
from handoff.report.model import ObjectRef


@dataclass(frozen=True)
class FixtureObject:
    """Satisfies ``PolicyObject`` (same shape as ``handoff.render.model.RenderedObject``)."""

    obj: Mapping[str, Any]
    file: str
    line: int
    positions: Mapping[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def ref(self) -> ObjectRef:
        meta = self.obj.get("metadata") or {}
        return ObjectRef(api_version=str(self.obj.get("apiVersion", "")), kind=str(self.obj.get("kind", "")),
                         name=str(meta.get("name", "")), namespace=str(meta.get("namespace", "") or ""))

    def locate(self, path: str) -> tuple[int, int]:
        probe = path
        while probe:
            if probe in self.positions:
                return self.positions[probe]
            cut = max(probe.rfind("."), probe.rfind("["))
            probe = probe[:cut] if cut > 0 else ""
        return (self.line, 1)


def objects_from_yaml(text: str, file: str, first_line: int = 1) -> list[FixtureObject]:
    """Every mapping document of ``text``; ``first_line`` offsets lines when ``text`` is embedded."""
    try:
        documents = list(YAML(typ="rt").load_all(text))
    except YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + first_line if mark is not None else None
        raise YamlError(f"invalid YAML: {getattr(e, 'problem', None) or e}", file=file, line=line) from e
    objects = []
    for doc in documents:
        if not isinstance(doc, CommentedMap):
            continue
        positions: dict[str, tuple[int, int]] = {}
        _walk(doc, "", positions, first_line)
        objects.append(FixtureObject(obj=plain(doc), file=file, line=doc.lc.line + first_line,
                                     positions=positions))
    return objects


def _walk(node: Any, prefix: str, positions: dict[str, tuple[int, int]], offset: int) -> None:
    """Mapping entries point at their key, list items at the item (the render layer's convention)."""
    if isinstance(node, CommentedMap):
        for key, value in node.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            line, col = node.lc.key(key)  # the key, as handoff.render's positions do
            positions[path] = (line + offset, col + 1)
            _walk(value, path, positions, offset)
    elif isinstance(node, CommentedSeq):
        for i, value in enumerate(node):
            line, col = node.lc.item(i)
            path = f"{prefix}[{i}]"
            positions[path] = (line + offset, col + 1)
            _walk(value, path, positions, offset)
