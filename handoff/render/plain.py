"""The plain renderer: a YAML/JSON file or a directory of them, read by ``handoff.manifests.plain``."""

from __future__ import annotations

from pathlib import Path

from handoff.manifests.model import RenderResult
from handoff.manifests.plain import combine, load_tree
from handoff.render.base import RenderSource


class PlainRenderer:
    name = "plain"

    def render(self, root: Path, source: RenderSource) -> RenderResult:
        return load_tree(source.path, root)


__all__ = ["PlainRenderer", "combine"]
