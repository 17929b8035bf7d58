"""The renderer interface: a config tree in, Kubernetes objects (each mapped to its source) out."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from handoff.manifests.model import RenderResult


@dataclass(frozen=True)
class RenderSource:
    """What to render: ``path`` (a file or directory) with the options a RenderSpec carries."""

    path: Path
    values: tuple[Path, ...] = ()
    release: str = "release"
    namespace: str = ""


class Renderer(Protocol):
    name: str

    def render(self, root: Path, source: RenderSource) -> RenderResult:
        """Render ``source``; file names in the result are relative to ``root`` (the config repo)."""
        ...
