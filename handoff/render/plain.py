"""Plain manifests: a YAML/JSON file or a directory of them, multi-document, List kinds expanded."""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from handoff.errors import RenderError
from handoff.render.base import RenderResult, RenderSource
from handoff.render.model import RenderedObject
from handoff.render.yamldocs import FilePositions, LoadedFile, YamlDoc, load_documents
from handoff.report.model import Finding, Severity

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
_WORKERS_ENV = "HANDOFF_PARSE_WORKERS"
_PARALLEL_FROM_FILES = 400


def display_name(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` when inside it, else as given (never resolved through symlinks)."""
    # abspath, not resolve(): symlinked trees keep the names users see, and it is cheap per file
    full, base = os.path.abspath(path), os.path.abspath(root)  # noqa: PTH100
    if full == base:
        return path.name
    prefix = base.rstrip(os.sep) + os.sep
    return full[len(prefix):].replace(os.sep, "/") if full.startswith(prefix) else path.as_posix()


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
    return objects_from_loaded(load_documents(text, file, strict=strict), file, FilePositions(text))


def objects_from_loaded(loaded: LoadedFile, file: str, positions: FilePositions) -> RenderResult:
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


def _load_file(path: Path, file: str) -> LoadedFile:
    return load_documents(read_text(path, file), file)


def _load_chunk(chunk: list[tuple[Path, str]]) -> list[LoadedFile]:
    return [_load_file(path, file) for path, file in chunk]


def _parse_workers(files: int) -> int:
    configured = os.environ.get(_WORKERS_ENV)
    if configured is not None:
        return max(1, int(configured))
    return min(os.cpu_count() or 1, 8) if files >= _PARALLEL_FROM_FILES else 1


def load_files(named: list[tuple[Path, str]]) -> list[LoadedFile]:
    """Parse many files; big trees are parsed by worker processes (YAML parsing is most of a run)."""
    workers = _parse_workers(len(named))
    if workers <= 1:
        return [_load_file(path, file) for path, file in named]
    size = max(16, len(named) // (workers * 8))
    chunks = [named[i:i + size] for i in range(0, len(named), size)]
    context = multiprocessing.get_context("forkserver" if threading.active_count() > 1 else "fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        return [loaded for part in pool.map(_load_chunk, chunks) for loaded in part]


def _reader(path: Path, file: str) -> Callable[[], str]:
    return lambda: read_text(path, file)


class PlainRenderer:
    name = "plain"

    def render(self, root: Path, source: RenderSource) -> RenderResult:
        named = [(path, display_name(path, root)) for path in manifest_files(source.path)]
        return combine(objects_from_loaded(loaded, file, FilePositions(_reader(path, file)))
                       for (path, file), loaded in zip(named, load_files(named), strict=True))
