"""Plain manifests: a YAML/JSON file or a directory of them, multi-document, List kinds expanded."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from handoff.errors import RenderError
from handoff.render.base import RenderResult, RenderSource
from handoff.render.model import RenderedObject
from handoff.render.yamldocs import FilePositions, YamlDoc, load_documents
from handoff.report.model import Finding, Severity

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")


def display_name(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` when inside it, else as given (never resolved through symlinks)."""
    try:
        return Path(os.path.relpath(path.absolute(), root.absolute())).as_posix() \
            if path.absolute().is_relative_to(root.absolute()) else path.as_posix()
    except ValueError:
        return path.as_posix()


def manifest_files(path: Path) -> list[Path]:
    """``path`` itself, or every manifest file under it in a stable order (hidden entries skipped)."""
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise RenderError(f"{path}: no such file or directory")
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(path):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        found.extend(Path(dirpath) / f for f in sorted(filenames)
                     if f.endswith(MANIFEST_SUFFIXES) and not f.startswith("."))
    return found


def objects_from_text(text: str, file: str, *, strict: bool = True) -> RenderResult:
    """Every object in one YAML text, with lazy positions into that same text."""
    loaded = load_documents(text, file, strict=strict)
    positions = FilePositions(text)
    objects: list[RenderedObject] = []
    findings = list(loaded.findings)
    for doc in loaded.docs:
        if not isinstance(doc.data, Mapping):
            findings.append(Finding(rule="yaml/not-an-object", severity=Severity.ERROR, file=file,
                                    line=doc.line, message="document is not a mapping (a Kubernetes object)",
                                    engine="yaml"))
            continue
        objects.extend(_expand(doc, file, positions))
    return RenderResult(objects=tuple(objects), findings=tuple(findings), files=(file,))


def _expand(doc: YamlDoc, file: str, positions: FilePositions) -> Iterator[RenderedObject]:
    data: Mapping[str, Any] = doc.data
    items = data.get("items")
    if str(data.get("kind", "")).endswith("List") and isinstance(items, list):
        doc_positions = positions.for_document(doc.index)
        for i, item in enumerate(items):
            if isinstance(item, Mapping):
                line = doc_positions.get(f"items[{i}]", (doc.line, 1))[0]
                yield RenderedObject(obj=item, file=file, line=line,
                                     positions=positions.for_document(doc.index, prefix=f"items[{i}]"))
        return
    yield RenderedObject(obj=data, file=file, line=doc.line, positions=positions.for_document(doc.index))


def read_text(path: Path, file: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise RenderError(f"{file}: not UTF-8 text ({e.reason} at byte {e.start})") from e
    except OSError as e:
        raise RenderError(f"{file}: cannot read: {e.strerror}") from e


def combine(results: Iterable[RenderResult]) -> RenderResult:
    objects: list[RenderedObject] = []
    findings: list[Finding] = []
    files: list[str] = []
    for r in results:
        objects.extend(r.objects)
        findings.extend(r.findings)
        files.extend(r.files)
    return RenderResult(tuple(objects), tuple(findings), tuple(dict.fromkeys(files)))


class PlainRenderer:
    name = "plain"

    def render(self, root: Path, source: RenderSource) -> RenderResult:
        return combine(objects_from_text(read_text(path, file), file)
                       for path in manifest_files(source.path)
                       for file in (display_name(path, root),))
