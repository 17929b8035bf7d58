"""Big plain trees validated end to end in worker processes: each parses AND schema-checks a chunk of
files and sends back only verdicts and findings, never the parsed objects (pickling those back cost
as much as parsing them).

A custom resource needs every CRD of the tree, which no single chunk has, so the parent first
finds the CRDs: only files whose text could hold one are parsed (each distinct text once: replicated
environments repeat the same CRD files). Workers are then forked with the schema definitions and
the CRD index loaded, so they inherit them. The report is identical to
``validate(load_trees(...))``: parse findings in file order, then each object's findings in
object order.

One big stream (a ``helm template`` or ``kustomize build`` output, or ``handoff validate -``) is cut
at document markers into spans that workers parse and check like files; each span's lines are
shifted back by the newlines before it, so positions are the whole stream's. Directives and ``...``
document ends bind documents together: a stream holding them is not cut.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from itertools import groupby, pairwise
from pathlib import Path
from typing import Any

from handoff.errors import HandoffError, UsageError
from handoff.manifests.model import RenderedObject, RenderResult, interned_ref
from handoff.manifests.plain import (
    gc_paused,
    load_files,
    load_trees,
    named_manifests,
    objects_from_loaded,
    read_text,
    text_reader,
)
from handoff.manifests.sensitive import held_secret_strings
from handoff.manifests.yamldocs import FilePositions, load_documents
from handoff.report.model import Finding, ObjectRef, ObjectResult, ValidationReport, WaiverUse
from handoff.validate import ExtraCheck, masked, validate, worst
from handoff.validate.builtin import _Resolver, check_object
from handoff.validate.crds import is_crd
from handoff.validate.engine import SchemaOptions
from handoff.validate.schemas import kubernetes_schemas

JOBS_ENV = "HANDOFF_PARSE_WORKERS"
PARALLEL_FROM_FILES = 400  # below this, forking workers costs more than it saves
_CHUNKS_PER_WORKER = 8  # small chunks even out files of different sizes across workers
SPLIT_FROM_BYTES = 1 << 20  # a file this big is a stream worth cutting into spans
_SPAN_BYTES = 128 << 10
_FILE_BYTES = 4096  # how much of a stream counts as one file's work when choosing the worker count
# The built-in pack multiplies the work per object by about 2 (10,000 corpus documents) to 5 (a kustomize
# build of small Deployments), start-up aside (bench/results/validate.md): with a per-object check, a
# third of the input is worth the workers' fixed cost.
_CHECKED_WORK = 3
_DOC_START = re.compile(r"^---(?=[ \t\r\n]|$)", re.MULTILINE)


@dataclass(frozen=True)
class _Piece:
    """A whole file (``span`` None: the worker reads it) or a span of a stream the parent holds;
    ``parsed``: a document the parent already parsed looking for CRDs (the worker reuses it)."""

    path: str
    file: str
    span: tuple[int, int, int] | None = None  # (begin, end, newlines before begin)
    parsed: bool = False


@dataclass(frozen=True)
class _PieceResult:
    parse_findings: tuple[Finding, ...]
    checked: tuple[tuple[ObjectResult, tuple[Finding, ...]], ...]
    extra_findings: tuple[Finding, ...]
    waivers: tuple[WaiverUse, ...]


_NOT_AN_OBJECT = "yaml/not-an-object"
# Parse findings after which the loader reads on; any other (malformed YAML, a limit) ends the file there.
_CONTINUES_AFTER = ("yaml/duplicate-key", _NOT_AN_OBJECT)


# Text that any document holding a CRD contains: its kind spelt out, or an escape that can spell a
# letter of it in a double-quoted scalar (\x43, \u0043, \U00000043) or join two lines of it (an
# escaped line break); folding a plain, single-quoted or block scalar over lines inserts a space or a
# newline instead. A regex's "\d" or "\." (common in render streams) is none of these.
_CRD_KIND = "CustomResourceDefinition"
_ESCAPED = frozenset("xuU\r\n\x85\u2028\u2029")


def crd_hint(text: str, start: int = 0) -> int:
    """The offset of the first CRD hint at or after ``start`` (the kind spelt out, or a backslash before
    one of ``_ESCAPED``), or -1. Plain ``str.find`` scans: this runs over every byte of a big stream
    before any worker starts."""
    kind = text.find(_CRD_KIND, start)
    limit = kind if kind >= 0 else len(text)
    at = text.find("\\", start, limit)
    while at >= 0:
        if text[at + 1:at + 2] in _ESCAPED:
            return at
        at = text.find("\\", at + 1, limit)
    return kind


def configured_jobs(jobs: int | None) -> int | None:
    """``jobs`` if given, else ``HANDOFF_PARSE_WORKERS``, else None (auto)."""
    if jobs is not None:
        if jobs < 0:
            raise UsageError(f"--jobs must be 0 (auto) or more, not {jobs}")
        return jobs or None
    configured = os.environ.get(JOBS_ENV, "").strip()
    if not configured:
        return None
    if not configured.isdigit():
        raise UsageError(f"{JOBS_ENV}={configured!r}: expected a number of processes (0 = auto)")
    return int(configured) or None


def worker_count(files: int, jobs: int | None, *, pieces: int | None = None) -> int:
    """Auto: one worker per idle core for trees of ``PARALLEL_FROM_FILES`` files' worth of work or
    more (a big stream counts one file per ``_FILE_BYTES``), else one process; never more workers
    than half the ``pieces`` (files and stream spans; default ``files``)."""
    wanted = configured_jobs(jobs)
    if wanted is None:
        wanted = idle_cores() if files >= PARALLEL_FROM_FILES else 1
    if threading.active_count() > 1:
        return 1  # forking a threaded process can deadlock in the child; forkserver would lose the schemas
    return max(1, min(wanted, (files if pieces is None else pieces) // 2))


def idle_cores() -> int:
    """``free_cores`` of this machine now (all of them where there is no load average)."""
    cores = os.cpu_count() or 1
    try:
        load = os.getloadavg()[0]
    except OSError:
        return cores
    return free_cores(cores, load)


def free_cores(cores: int, load: float) -> int:
    """Cores no other process is using: the 1-minute load average taken off the core count, at least
    one. Workers pay a fixed price (fork, their own warm-up, the parent merging their results: a
    third more CPU in all than one process on the same 10,000-document stream); with every core
    busy they cannot shorten the wall-clock either, so on a loaded CI runner one process is cheaper."""
    return max(1, min(cores, cores - int(load)))


def stream_spans(text: str, span_bytes: int = _SPAN_BYTES) -> list[tuple[int, int, int]] | None:
    """``(begin, end, newlines before begin)`` of consecutive spans of about ``span_bytes``, each cut at
    a ``---`` document marker; None when the stream must be read whole (directives, ``...``)."""
    if text.startswith("%") or "\n%" in text or "\n..." in text or text.startswith("..."):
        return None
    cuts = [0]
    while (found := _DOC_START.search(text, cuts[-1] + span_bytes)) is not None:
        cuts.append(found.start())
    cuts.append(len(text))
    spans: list[tuple[int, int, int]] = []
    lines = 0
    for begin, end in pairwise(cuts):
        spans.append((begin, end, lines))
        lines += text.count("\n", begin, end)
    return spans


def validate_plain_paths(paths: Sequence[Path], *, repo: Path, options: SchemaOptions,
                         jobs: int | None = None,
                         per_object_check: ExtraCheck | None = None) -> ValidationReport:
    """``validate(load_trees(paths, repo), engine="builtin", extra_checks=[per_object_check])``
    for plain manifest trees, with parsing, schema checks and the extra check spread over ``jobs``
    processes (None: auto, see ``worker_count``). The caller guarantees that ``per_object_check``
    gives the same findings, in order, when called on consecutive batches of the objects."""
    named = [entry for path in paths for entry in named_manifests(path, repo)]
    sizes = [_size(path) for path, _ in named]
    work = work_units(sizes, checked=per_object_check is not None)
    workers = worker_count(work, jobs, pieces=_pieces_estimate(sizes))
    texts: dict[str, str] = {}
    pieces: list[_Piece] = []
    if workers > 1:
        for (path, file), size in zip(named, sizes, strict=True):
            spans = _spans_of(path, file, texts) if size >= SPLIT_FROM_BYTES else None
            pieces.extend([_Piece(path, file, span) for span in spans] if spans else [_Piece(path, file)])
        # one big document cannot be cut: forking workers for too few pieces only adds their start-up
        workers = min(workers, len(pieces) // 2)
    if workers <= 1:
        checks = [per_object_check] if per_object_check is not None else []
        return validate(load_trees(paths, repo), schema_options=options, engine="builtin",
                        extra_checks=checks)
    report = _validate_pieces(pieces, texts, workers, options, per_object_check)
    return report if report is not None else validate_plain_paths(paths, repo=repo, options=options, jobs=1,
                                                                  per_object_check=per_object_check)


def validate_plain_stream(text: str, name: str, *, options: SchemaOptions, jobs: int | None = None,
                    per_object_check: ExtraCheck | None = None) -> ValidationReport:
    """``validate_plain_paths`` for one stream held in memory (``handoff validate -``)."""
    spans = stream_spans(text)
    work = work_units([len(text)], checked=per_object_check is not None, stream=True)
    workers = worker_count(work, jobs, pieces=len(spans)) if spans else 1
    if spans is not None and workers > 1:
        pieces = [_Piece(name, name, span) for span in spans]
        report = _validate_pieces(pieces, {name: text}, workers, options, per_object_check)
        if report is not None:
            return report
    rendered = objects_from_loaded(load_documents(text, name), name, FilePositions(text))
    checks = [per_object_check] if per_object_check is not None else []
    return validate(rendered, schema_options=options, engine="builtin", extra_checks=checks)


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size  # noqa: PTH116 (plain strings: see named_manifests)
    except OSError:
        return 0  # the worker reports what cannot be read


def _pieces_estimate(sizes: list[int]) -> int:
    return sum(1 if size < SPLIT_FROM_BYTES else max(1, size // _SPAN_BYTES) for size in sizes)


def work_units(sizes: Sequence[int], *, checked: bool, stream: bool = False) -> int:
    """The work of files of ``sizes`` bytes in files' worth, as ``worker_count`` weighs it: a file is
    one unless it is big enough to be cut into spans (or is a ``stream``, always cut), then one per
    ``_FILE_BYTES``; times ``_CHECKED_WORK`` when a per-object check (the policies) runs too."""
    units = sum(max(1, size // _FILE_BYTES) if stream or size >= SPLIT_FROM_BYTES else 1 for size in sizes)
    return units * (_CHECKED_WORK if checked else 1)


def _spans_of(path: str, file: str, texts: dict[str, str]) -> list[tuple[int, int, int]] | None:
    try:
        text = read_text(path, file)
    except HandoffError:
        return None  # over the size limit or unreadable: the worker reports it, as for any file
    spans = stream_spans(text)
    if spans is not None and len(spans) > 1:
        texts[path] = text
        return spans
    return None


def _validate_pieces(pieces: list[_Piece], texts: dict[str, str], workers: int, options: SchemaOptions,
                     per_object_check: ExtraCheck | None) -> ValidationReport | None:
    """The report, or None when a stream's YAML stopped the loader part-way: one process reading it
    whole reads no document after that point (nor a CRD there), so the caller reads it that way."""
    kubernetes_schemas(options.kubernetes_version, options.strict).preload()  # inherited by the workers
    # inherited, not sent: the resolver caches compiled schemas and extra_crds hold lazy positions;
    # the streams' texts and the documents parsed for CRDs are shared with the forked workers, never pickled
    _inherited["texts"] = texts
    crds, pieces, _inherited["parsed"] = _piece_crds(pieces, texts)
    _inherited["resolver"] = _Resolver(options, crds)
    size = max(1, -(-len(pieces) // (workers * _CHUNKS_PER_WORKER)))
    chunks = [pieces[i:i + size] for i in range(0, len(pieces), size)]
    _inherited["options"] = options
    _inherited["check"] = per_object_check
    # the process machinery only when workers run (a one-process run never loads it)
    import multiprocessing  # noqa: PLC0415 (only when workers run)
    from concurrent.futures import ProcessPoolExecutor  # noqa: PLC0415 (only when workers run)
    from multiprocessing.reduction import ForkingPickler  # noqa: PLC0415 (only when workers run)

    # Results come back with one ObjectRef instance per object identity, as one process makes them
    # (``manifests.model.interned_ref``): matching findings to objects compares refs by identity first.
    ForkingPickler.register(ObjectRef, _reduce_ref)
    try:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=min(workers, len(chunks)), mp_context=context) as pool:
            results = [r for rs in pool.map(_check_worker_chunk, chunks) for r in rs]
    finally:
        _inherited.clear()
    if any(p.span is not None and any(f.rule not in _CONTINUES_AFTER for f in r.parse_findings)
           for p, r in zip(pieces, results, strict=True)):
        return None
    schema = ValidationReport(objects=tuple(o for r in results for o, _ in r.checked),
                              findings=tuple(_parse_findings(pieces, results)
                                             + [f for r in results for _, found in r.checked for f in found]))
    if per_object_check is None:
        return schema
    extra = ValidationReport(findings=tuple(f for r in results for f in r.extra_findings),
                             waivers=tuple(w for r in results for w in r.waivers))
    return ValidationReport(objects=worst(schema, extra), findings=schema.findings + extra.findings,
                            waivers=schema.waivers + extra.waivers)


_inherited: dict[str, Any] = {}


def _reduce_ref(ref: ObjectRef) -> tuple[Any, tuple[tuple[str, str, str, str]]]:
    return interned_ref, ((ref.api_version, ref.kind, ref.name, ref.namespace),)


def _parse_findings(pieces: Sequence[_Piece], results: Sequence[_PieceResult]) -> list[Finding]:
    """In file order; within a stream, the loader's findings of every span come before the documents
    that are not objects, as when the stream is read whole."""
    ordered: list[Finding] = []
    pairs = zip(pieces, results, strict=True)
    for _, group in groupby(pairs, key=lambda pair: (pair[0].path, pair[0].span is None)):
        found = [f for _, r in group for f in r.parse_findings]
        ordered.extend(sorted(found, key=lambda f: f.rule == _NOT_AN_OBJECT))
    return ordered


_Parsed = dict[tuple[str, int], RenderResult]


def _piece_crds(pieces: Sequence[_Piece],
                texts: dict[str, str]) -> tuple[list[RenderedObject], list[_Piece], _Parsed]:
    """``tree_crds`` over files and stream spans (only the documents whose text could hold a CRD are
    parsed), and the pieces with each such document of a span made a piece of its own, which the
    worker takes as parsed here (by (path, begin) in the third value) instead of parsing it again."""
    crds: list[RenderedObject] = []
    whole: list[tuple[str, str]] = []
    cut: list[_Piece] = []
    parsed: _Parsed = {}
    for piece in pieces:
        if piece.span is None:
            whole.append((piece.path, piece.file))
            cut.append(piece)
            continue
        crds.extend(tree_crds(whole))
        whole = []
        text = texts[piece.path]
        begin, end, lines = piece.span
        at = begin
        for doc_begin, doc_end, result in _span_crds(text, begin, end, piece.file):
            crds.extend(o for o in result.objects if is_crd(o.obj))
            if doc_begin > at:
                cut.append(replace(piece, span=(at, doc_begin, lines)))
                lines += text.count("\n", at, doc_begin)
            cut.append(replace(piece, span=(doc_begin, doc_end, lines), parsed=True))
            parsed[(piece.path, doc_begin)] = result
            lines += text.count("\n", doc_begin, doc_end)
            at = doc_end
        if at < end or at == begin:
            cut.append(replace(piece, span=(at, end, lines)))
    return crds + tree_crds(whole), cut, parsed


def _span_crds(text: str, begin: int, end: int, file: str) -> list[tuple[int, int, RenderResult]]:
    """``(begin, end, parsed)`` of every document of the span ``text[begin:end]`` whose text could hold
    a CRD (``crd_hint``), parsed as the worker would parse it as a span of its own."""
    span = text[begin:end]
    found: list[tuple[int, int, RenderResult]] = []
    hint = crd_hint(span)
    while hint >= 0:
        doc_begin, doc_end = _document_around(span, hint)
        document = span[doc_begin:doc_end]
        result = objects_from_loaded(load_documents(document, file), file, FilePositions(document))
        found.append((begin + doc_begin, begin + doc_end, result))
        hint = crd_hint(span, doc_end)
    return found


def _document_around(text: str, at: int) -> tuple[int, int]:
    """``(begin, end)`` of the document holding offset ``at``: from the last ``---`` marker at or before
    it (else the start) to the next one after it (else the end)."""
    begin = 0
    line = text.rfind("\n---", 0, at + 1)
    while line >= 0:
        if _DOC_START.match(text, line + 1) and line + 1 <= at:
            begin = line + 1
            break
        line = text.rfind("\n---", 0, line)
    following = _DOC_START.search(text, at + 1)
    return begin, following.start() if following is not None else len(text)


def tree_crds(named: Sequence[tuple[str, str]]) -> list[RenderedObject]:
    """The CRDs among the files, in file order; unreadable or broken files are the workers' to report."""
    crds: list[RenderedObject] = []
    parsed: dict[str, list[RenderedObject]] = {}
    for path, file in named:
        try:
            text = read_text(path, file)
        except HandoffError:
            continue
        if crd_hint(text) < 0:
            continue
        if text not in parsed:
            loaded = load_documents(text, file)
            parsed[text] = [o for o in objects_from_loaded(loaded, file, FilePositions(text)).objects
                            if is_crd(o.obj)]
        crds.extend(parsed[text])
    return crds


def _check_worker_chunk(chunk: list[_Piece]) -> list[_PieceResult]:
    resolver, options, check = _inherited["resolver"], _inherited["options"], _inherited["check"]
    assert isinstance(resolver, _Resolver) and isinstance(options, SchemaOptions)
    results: list[_PieceResult] = []
    with gc_paused():
        rendered = _render_pieces(chunk)
        extras = _extra_checks(chunk, [objects for objects, _ in rendered], check, options)
        for piece, (objects, findings), (extra_found, waivers) in zip(chunk, rendered, extras, strict=True):
            lines = piece.span[2] if piece.span else 0
            checked: list[tuple[ObjectResult, tuple[Finding, ...]]] = []
            for obj in objects:
                result, found = check_object(obj, resolver.validator, options)
                if lines:
                    result = replace(result, line=result.line + lines)
                checked.append((result, tuple(_shifted(f, piece.file, lines) for f in found)))
            results.append(_PieceResult(
                parse_findings=tuple(_shifted(f, piece.file, lines) for f in findings),
                checked=tuple(checked), extra_findings=extra_found, waivers=waivers))
    return results


_Extra = tuple[tuple[Finding, ...], tuple[WaiverUse, ...]]


def _extra_checks(chunk: Sequence[_Piece], objects: Sequence[tuple[RenderedObject, ...]],
                  check: ExtraCheck | None, options: SchemaOptions) -> list[_Extra]:
    """The per-object check's findings and waivers for each piece. Consecutive pieces whose lines
    need no shift (whole files, a stream's first span) are checked in one call, its results given to
    the last of them (the check gives the same findings, in order, on consecutive batches: one call
    spares thousands of small files its per-call cost); a span further down a stream is checked on
    its own, its findings shifted by its line offset."""
    extras: list[_Extra] = [((), ())] * len(chunk)
    if not callable(check):
        return extras
    batch: list[int] = []

    def run(indexes: list[int], lines: int) -> None:
        found = [o for i in indexes for o in objects[i]]
        extra = masked(check(found), held_secret_strings(found, options.sensitive))
        file = chunk[indexes[-1]].file
        extras[indexes[-1]] = (tuple(_shifted(f, file, lines) for f in extra.findings), extra.waivers)

    for index, piece in enumerate(chunk):
        lines = piece.span[2] if piece.span else 0
        if lines:
            if batch:
                run(batch, 0)
                batch = []
            run([index], lines)
        else:
            batch.append(index)
    if batch:
        run(batch, 0)
    return extras


def _render_pieces(chunk: list[_Piece]) -> list[tuple[tuple[RenderedObject, ...], tuple[Finding, ...]]]:
    """Each piece parsed: whole files read here (as one batch), spans sliced from the inherited text."""
    files = [(p.path, p.file) for p in chunk if p.span is None]
    loaded = iter(load_files(files))
    texts: dict[str, str] = _inherited["texts"]
    rendered = []
    parsed: _Parsed = _inherited["parsed"]
    for piece in chunk:
        if piece.span is None:
            positions = FilePositions(text_reader(piece.path, piece.file))
            result = objects_from_loaded(next(loaded), piece.file, positions)
        elif piece.parsed:
            result = parsed[(piece.path, piece.span[0])]
        else:
            begin, end, _ = piece.span
            text = texts[piece.path][begin:end]
            result = objects_from_loaded(load_documents(text, piece.file), piece.file, FilePositions(text))
        rendered.append((result.objects, result.findings))
    return rendered


def _shifted(finding: Finding, file: str, lines: int) -> Finding:
    return replace(finding, line=finding.line + lines) if lines and finding.file == file else finding


__all__ = ["JOBS_ENV", "PARALLEL_FROM_FILES", "SPLIT_FROM_BYTES", "configured_jobs", "free_cores",
           "idle_cores", "stream_spans", "tree_crds", "validate_plain_paths", "validate_plain_stream",
           "work_units", "worker_count"]
