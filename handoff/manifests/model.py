"""What every renderer produces: Kubernetes objects as plain data, each mapped back to its source."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from handoff.report.model import Finding, ObjectRef


@dataclass(frozen=True)
class RenderedObject:
    """One rendered Kubernetes object.

    ``obj`` is JSON-compatible data (dicts, lists, str, int, float, bool, None). ``file`` is the source
    file relative to the config repo root (the resource file for plain/Kustomize, the template for
    Helm) and ``line`` the object's first line there. ``positions`` maps dotted JSON paths
    (``spec.template.spec.containers[0].image``) to 1-based (line, column) in ``file`` where known.
    """

    obj: Mapping[str, Any]
    file: str
    line: int
    positions: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    # values that came from another file (a Helm values file): dotted path -> (file, line, column)
    value_sources: Mapping[str, tuple[str, int, int]] = field(default_factory=dict)

    @property
    def ref(self) -> ObjectRef:
        cached: ObjectRef | None = self.__dict__.get("_ref")
        if cached is None:
            cached = self._make_ref()
            object.__setattr__(self, "_ref", cached)  # frozen, but the ref never changes: memoise
        return cached

    def _make_ref(self) -> ObjectRef:
        meta = self.obj.get("metadata") or {}
        if not isinstance(meta, Mapping):
            meta = {}
        return ObjectRef(
            api_version=str(self.obj.get("apiVersion", "")),
            kind=str(self.obj.get("kind", "")),
            name=str(meta.get("name", "")),
            namespace=str(meta.get("namespace", "") or ""),
        )

    def locate(self, path: str) -> tuple[int, int]:
        """The (line, column) of ``path``, or of its longest known prefix, or of the object."""
        probe = path
        while probe:
            if probe in self.positions:
                return self.positions[probe]
            cut = max(probe.rfind("."), probe.rfind("["))
            probe = probe[:cut] if cut > 0 else ""
        return (self.line, 1)

    def where(self, path: str) -> tuple[str, int, int]:
        """(file, line, column) to show for ``path``: where its value was set if known, else ``locate``."""
        source = self.value_sources.get(path)
        if source is not None:
            return source
        line, column = self.locate(path)
        return self.file, line, column


@dataclass(frozen=True)
class RenderResult:
    """Rendered objects plus the findings met on the way (malformed YAML, duplicate keys)."""

    objects: tuple[RenderedObject, ...] = ()
    findings: tuple[Finding, ...] = ()
    files: tuple[str, ...] = ()

    def merge(self, other: RenderResult) -> RenderResult:
        return RenderResult(self.objects + other.objects, self.findings + other.findings,
                            self.files + tuple(f for f in other.files if f not in self.files))
