"""The renderer interface: a config tree in, Kubernetes objects (each mapped to its source) out."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from handoff.manifests.model import RenderedObject
from handoff.report.model import Finding


@dataclass(frozen=True)
class RenderSource:
    """What to render: ``path`` (a file or directory) with the options a RenderSpec carries."""

    path: Path
    values: tuple[Path, ...] = ()
    release: str = "release"
    namespace: str = ""


@dataclass(frozen=True)
class RenderResult:
    """Rendered objects plus the findings met on the way (malformed YAML, duplicate keys)."""

    objects: tuple[RenderedObject, ...] = ()
    findings: tuple[Finding, ...] = ()
    files: tuple[str, ...] = ()

    def merge(self, other: RenderResult) -> RenderResult:
        return RenderResult(self.objects + other.objects, self.findings + other.findings,
                            self.files + tuple(f for f in other.files if f not in self.files))


class Renderer(Protocol):
    name: str

    def render(self, root: Path, source: RenderSource) -> RenderResult:
        """Render ``source``; file names in the result are relative to ``root`` (the config repo)."""
        ...
