"""Plain manifests: a YAML/JSON file or a directory of them, multi-document, List kinds expanded.

The one reader of manifest text into ``RenderedObject``s: the plain renderer, validate's parallel
workers and policy fixtures all go through it, so objects are located the same way everywhere.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from handoff.errors import RenderError
from handoff.manifests.bounds import Limits, charge, read_capped
from handoff.manifests.model import RenderedObject, RenderResult
from handoff.manifests.yamldocs import FilePositions, LoadedFile, YamlDoc, file_limits, load_documents
from handoff.report.model import Finding, Severity

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")


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
    return [Path(full) for full, _ in named_manifests(path, path)]


def named_manifests(path: Path, root: Path) -> list[tuple[str, str]]:
    """``(path, name relative to root)`` of ``path`` or of every manifest under it, in a stable order.
    Plain strings: tens of thousands of pathlib objects would cost more than parsing some files."""
    if path.is_file():
        return [(str(path), display_name(path, root))]
    if not path.is_dir():
        raise RenderError(f"{path}: no such file or directory")
    base = os.path.abspath(root)  # noqa: PTH100
    found: list[tuple[str, str]] = []
    for dirpath, dirnames, filenames in os.walk(path):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        full_dir = os.path.abspath(dirpath)  # noqa: PTH100
        if full_dir == base:
            shown = ""
        elif full_dir.startswith(base.rstrip(os.sep) + os.sep):
            shown = full_dir[len(base.rstrip(os.sep)) + 1:].replace(os.sep, "/") + "/"
        else:
            shown = Path(dirpath).as_posix() + "/"
        found.extend((os.path.join(dirpath, f), shown + f) for f in sorted(filenames)  # noqa: PTH118
                     if f.endswith(MANIFEST_SUFFIXES) and not f.startswith("."))
    return found


def objects_from_text(text: str, file: str, *, strict: bool = True) -> RenderResult:
    """Every object in one YAML text, with lazy positions into that same text."""
    return objects_from_loaded(parse(text, file, strict=strict), file, FilePositions(text))


def parse(text: str, file: str, *, strict: bool = True, limits: Limits | None = None) -> LoadedFile:
    """``load_documents`` charged to the render's node budget first, when one is active (a render's
    memory is its nodes, not its bytes): its aliases may add at most what the budget has left."""
    limits = limits or file_limits()
    budget = charge(text, file)
    if budget is not None:
        limits = replace(limits, max_nodes=min(limits.max_nodes, budget.remaining))
    return load_documents(text, file, strict=strict, limits=limits)


def objects_from_loaded(loaded: LoadedFile, file: str, positions: FilePositions) -> RenderResult:
    objects: list[RenderedObject] = []
    findings = list(loaded.findings)
    for doc in loaded.docs:
        if not isinstance(doc.data, Mapping):
            findings.append(Finding(rule="yaml/not-an-object", severity=Severity.ERROR, file=file,
                                    line=doc.line, message="document is not a mapping (a Kubernetes object)",
                                    engine="yaml"))
            continue
        objects.extend(expand_document(doc, file, positions))
    return RenderResult(objects=tuple(objects), findings=tuple(findings), files=(file,))


def expand_document(doc: YamlDoc, file: str, positions: FilePositions, data: Mapping[str, Any] | None = None,
            prefix: str = "") -> Iterator[RenderedObject]:
    """The document's object, or the items of a ``…List`` kind, nested Lists flattened as kubectl's
    builder does (an inner List kept whole would show its Secrets unmasked)."""
    data = doc.data if data is None else data
    items = data.get("items")
    if str(data.get("kind", "")).endswith("List") and isinstance(items, list):
        doc_positions = positions.for_document(doc.index)
        for i, item in enumerate(items):
            if not isinstance(item, Mapping):
                continue
            at = f"{prefix}items[{i}]"
            if str(item.get("kind", "")).endswith("List") and isinstance(item.get("items"), list):
                yield from expand_document(doc, file, positions, item, f"{at}.")
                continue
            line = doc_positions.get(at, (doc.line, 1))[0]
            yield RenderedObject(obj=item, file=file, line=line,
                                 positions=positions.for_document(doc.index, prefix=at))
        return
    yield RenderedObject(obj=data, file=file, line=doc.line, positions=positions.for_document(doc.index))


def read_text(path: Path | str, file: str, limits: Limits | None = None) -> str:
    """A manifest's text; over the size limit (``HANDOFF_MAX_FILE_BYTES``) is a RenderError."""
    text = _read_capped(path, file, limits or file_limits())
    if text is None:
        raise RenderError(f"{file}: over the {(limits or file_limits()).max_bytes}-byte file size limit "
                          "(HANDOFF_MAX_FILE_BYTES)")
    return text


def _read_capped(path: Path | str, file: str, limits: Limits) -> str | None:
    """The text, or None when the file is bigger than ``limits.max_bytes`` (never read whole)."""
    try:
        data = read_capped(path, limits)
    except OSError as e:
        raise RenderError(f"{file}: cannot read: {e.strerror}") from e
    if data is None:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise RenderError(f"{file}: not UTF-8 text ({e.reason} at byte {e.start})") from e


def combine(results: Iterable[RenderResult]) -> RenderResult:
    objects: list[RenderedObject] = []
    findings: list[Finding] = []
    files: list[str] = []
    for r in results:
        objects.extend(r.objects)
        findings.extend(r.findings)
        files.extend(r.files)
    return RenderResult(tuple(objects), tuple(findings), tuple(dict.fromkeys(files)))


def _load_file(path: str, file: str) -> LoadedFile:
    limits = file_limits()
    text = _read_capped(path, file, limits)
    if text is None:
        return LoadedFile(docs=(), findings=(Finding(
            rule="yaml/limit", severity=Severity.ERROR, file=file, line=1, engine="yaml",
            message=f"file not read: over the {limits.max_bytes}-byte size limit (HANDOFF_MAX_FILE_BYTES)"),))
    return parse(text, file, limits=limits)


@contextmanager
def gc_paused() -> Iterator[None]:
    """Parsed manifests are acyclic trees of fresh dicts and lists: the cyclic collector finds
    nothing in them but, triggered by every 700 allocations, re-walks them again and again. On the
    way out what is alive is frozen (moved out of the collector's generations; reference counting
    still frees it): re-enabled with every object of the pause in its youngest generation, the
    collector would otherwise walk them all on the next allocation, and again as they age. handoff
    runs as one-shot commands, so the cycles frozen with them (if any) live until exit at worst."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.freeze()
            gc.enable()


def load_files(named: list[tuple[str, str]]) -> list[LoadedFile]:
    """Parse many files in this process. Big trees are validated in parallel by
    ``handoff.validate.parallel``, whose workers parse and check (shipping parsed objects back
    from parse-only workers cost as much as parsing them)."""
    with gc_paused():
        return [_load_file(path, file) for path, file in named]


def text_reader(path: str, file: str) -> Callable[[], str]:
    """Reads the text again when positions are first asked for (a clean validation never does)."""
    return lambda: read_text(path, file)


def load_tree(path: Path, root: Path) -> RenderResult:
    """Every object of ``path`` (a file or a directory of manifests), file names relative to ``root``."""
    named = named_manifests(path, root)
    with gc_paused():  # objects are built from the parsed data too: keep the collector off for both
        return combine(objects_from_loaded(loaded, file, FilePositions(text_reader(path_, file)))
                       for (path_, file), loaded in zip(named, load_files(named), strict=True))


def load_trees(paths: Iterable[Path], root: Path) -> RenderResult:
    return combine(load_tree(path, root) for path in paths)
