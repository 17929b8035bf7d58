"""Big plain trees validated end to end in worker processes: each parses AND schema-checks a chunk of
files and sends back only verdicts and findings, never the parsed objects (pickling those back cost
as much as parsing them).

A custom resource needs every CRD of the tree, which no single chunk has, so the parent first
finds the CRDs: only files whose text could hold one are parsed (each distinct text once: replicated
environments repeat the same CRD files). Workers are then forked with the schema definitions and
the CRD index loaded, so they inherit them. The report is identical to
``validate(load_trees(...))``: parse findings in file order, then each object's findings in
object order.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from handoff.errors import HandoffError, UsageError
from handoff.manifests.model import RenderedObject
from handoff.manifests.plain import (
    gc_paused,
    load_files,
    load_trees,
    named_manifests,
    objects_from_loaded,
    read_text,
    text_reader,
)
from handoff.manifests.yamldocs import FilePositions, load_documents
from handoff.report.model import Finding, ObjectResult, ValidationReport
from handoff.validate import ExtraCheck, validate, worst
from handoff.validate.builtin import _Resolver, check_object
from handoff.validate.crds import is_crd
from handoff.validate.engine import SchemaOptions
from handoff.validate.schemas import kubernetes_schemas

JOBS_ENV = "HANDOFF_PARSE_WORKERS"
PARALLEL_FROM_FILES = 400  # below this, forking workers costs more than it saves
_CHUNKS_PER_WORKER = 8  # small chunks even out files of different sizes across workers


@dataclass(frozen=True)
class _ChunkResult:
    parse_findings: tuple[Finding, ...]
    checked: tuple[tuple[ObjectResult, tuple[Finding, ...]], ...]
    extra: ValidationReport


# Text that any file holding a CRD contains (an escaped "kind" value needs a backslash).
_CRD_HINTS = ("CustomResourceDefinition", "\\")


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


def worker_count(files: int, jobs: int | None) -> int:
    """Auto: one worker per core for trees of ``PARALLEL_FROM_FILES`` files or more, else one process."""
    wanted = configured_jobs(jobs)
    if wanted is None:
        wanted = (os.cpu_count() or 1) if files >= PARALLEL_FROM_FILES else 1
    if threading.active_count() > 1:
        return 1  # forking a threaded process can deadlock in the child; forkserver would lose the schemas
    return max(1, min(wanted, files // 2))  # never a worker for fewer than two files


def validate_plain_paths(paths: Sequence[Path], *, repo: Path, options: SchemaOptions,
                         jobs: int | None = None,
                         per_object_check: ExtraCheck | None = None) -> ValidationReport:
    """``validate(load_trees(paths, repo), engine="builtin", extra_checks=[per_object_check])``
    for plain manifest trees, with parsing, schema checks and the extra check spread over ``jobs``
    processes (None: auto, see ``worker_count``). The caller guarantees that ``per_object_check``
    gives the same findings, in order, when called on consecutive batches of the objects."""
    named = [entry for path in paths for entry in named_manifests(path, repo)]
    workers = worker_count(len(named), jobs)
    if workers <= 1:
        checks = [per_object_check] if per_object_check is not None else []
        return validate(load_trees(paths, repo), schema_options=options, engine="builtin",
                        extra_checks=checks)
    kubernetes_schemas(options.kubernetes_version, options.strict).preload()  # inherited by the workers
    size = max(1, -(-len(named) // (workers * _CHUNKS_PER_WORKER)))
    chunks = [named[i:i + size] for i in range(0, len(named), size)]
    # inherited, not sent: the resolver caches compiled schemas and extra_crds hold lazy positions
    _inherited["resolver"] = _Resolver(options, tree_crds(named))
    _inherited["options"] = options
    _inherited["check"] = per_object_check
    try:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=min(workers, len(chunks)), mp_context=context) as pool:
            results = list(pool.map(_check_worker_chunk, chunks))
    finally:
        _inherited.clear()
    schema = ValidationReport(objects=tuple(o for r in results for o, _ in r.checked),
                              findings=tuple([f for r in results for f in r.parse_findings]
                                             + [f for r in results for _, found in r.checked for f in found]))
    if per_object_check is None:
        return schema
    extra = ValidationReport(findings=tuple(f for r in results for f in r.extra.findings),
                             waivers=tuple(w for r in results for w in r.extra.waivers))
    return ValidationReport(objects=worst(schema, extra), findings=schema.findings + extra.findings,
                            waivers=schema.waivers + extra.waivers)


_inherited: dict[str, Any] = {}


def tree_crds(named: Sequence[tuple[str, str]]) -> list[RenderedObject]:
    """The CRDs among the files, in file order; unreadable or broken files are the workers' to report."""
    crds: list[RenderedObject] = []
    parsed: dict[str, list[RenderedObject]] = {}
    for path, file in named:
        try:
            text = read_text(path, file)
        except HandoffError:
            continue
        if not any(hint in text for hint in _CRD_HINTS):
            continue
        if text not in parsed:
            loaded = load_documents(text, file)
            parsed[text] = [o for o in objects_from_loaded(loaded, file, FilePositions(text)).objects
                            if is_crd(o.obj)]
        crds.extend(parsed[text])
    return crds


def _check_worker_chunk(chunk: list[tuple[str, str]]) -> _ChunkResult:
    resolver, options, check = _inherited["resolver"], _inherited["options"], _inherited["check"]
    assert isinstance(resolver, _Resolver) and isinstance(options, SchemaOptions)
    parse_findings: list[Finding] = []
    checked: list[tuple[ObjectResult, tuple[Finding, ...]]] = []
    objects: list[RenderedObject] = []
    with gc_paused():
        for (path, file), loaded in zip(chunk, load_files(chunk), strict=True):
            rendered = objects_from_loaded(loaded, file, FilePositions(text_reader(path, file)))
            parse_findings.extend(rendered.findings)
            objects.extend(rendered.objects)
            for obj in rendered.objects:
                result, found = check_object(obj, resolver.validator, options)
                checked.append((result, tuple(found)))
        extra = check(objects) if callable(check) else ValidationReport()
    return _ChunkResult(tuple(parse_findings), tuple(checked), extra)


__all__ = ["JOBS_ENV", "PARALLEL_FROM_FILES", "configured_jobs", "tree_crds", "validate_plain_paths",
           "worker_count"]
