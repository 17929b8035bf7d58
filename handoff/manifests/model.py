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
        key = (str(self.obj.get("apiVersion", "")), str(self.obj.get("kind", "")), str(meta.get("name", "")),
               str(meta.get("namespace", "") or ""))
        return interned_ref(key)

    def locate(self, path: str) -> tuple[int, int]:
        """The (line, column) of ``path``, or of its longest known prefix, or of the object."""
        probe = path
        positions = self.positions
        while probe:
            found = positions.get(probe)
            if found is not None:
                return found
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


_REFS: dict[tuple[str, str, str, str], ObjectRef] = {}
_MAX_REFS = 100_000


def interned_ref(key: tuple[str, str, str, str]) -> ObjectRef:
    """One ObjectRef instance per identity: reports match findings to objects by their refs, and a
    dataclass's ``__eq__`` runs in Python unless the two are the same instance (a stream that repeats
    names, or objects with many findings, compared them field by field tens of thousands of times)."""
    ref = _REFS.get(key)
    if ref is None:
        if len(_REFS) >= _MAX_REFS:  # a long-lived reconciler sees ever new names: stay bounded
            _REFS.clear()
        ref = _REFS[key] = ObjectRef(api_version=key[0], kind=key[1], name=key[2], namespace=key[3])
    return ref


@dataclass(frozen=True)
class RenderResult:
    """Rendered objects plus the findings met on the way (malformed YAML, duplicate keys)."""

    objects: tuple[RenderedObject, ...] = ()
    findings: tuple[Finding, ...] = ()
    files: tuple[str, ...] = ()

    def merge(self, other: RenderResult) -> RenderResult:
        return RenderResult(self.objects + other.objects, self.findings + other.findings,
                            self.files + tuple(f for f in other.files if f not in self.files))
