"""The files of one name Helm reads from a chart tree: the chart's own, every vendored subchart's
(``charts/<sub>/``, at any depth) and those inside subchart archives (``charts/<sub>.tgz``, archives in
archives included).

Helm loads each of them (``values.yaml`` merged under the subchart's key, ``values.schema.json``
resolved and applied), so whatever handoff scans or masks of one chart it must find in all of them.
Archives are streamed, each member capped at Helm's own per-file limit, and their entries named and typed as
Go's archive/tar reads them (``handoff.render.tar_headers``).
"""

from __future__ import annotations

import gzip
import io
import posixpath
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import BinaryIO, cast

from handoff.errors import RenderError
from handoff.manifests.bounds import read_capped
from handoff.manifests.plain import display_name, read_text
from handoff.manifests.yamldocs import file_limits
from handoff.render.tar_headers import go_tar_members

_MAX_DEPTH = 50
# subchart archives Helm may load from charts/ (scanning one it skips costs nothing)
_ARCHIVES = (".tgz", ".tar.gz")
# Helm's loader caps (pkg/chart/loader/archive.go ``MaxDecompressedFileSize``): a chart file over 5 MiB is
# refused by Helm, so reading more of one is never needed; archives in archives are rare beyond two
MAX_MEMBER_BYTES = 5 * 1024 * 1024
MAX_ARCHIVE_NESTING = 4


def chart_files(chart: Path, name: str, root: Path) -> Iterator[tuple[str, str]]:
    """``(display name, text)`` of every ``name`` file Helm reads from ``chart`` (the chart's first)."""
    yield from _directory(chart, name, root, 0)


def _directory(chart: Path, name: str, root: Path, depth: int) -> Iterator[tuple[str, str]]:
    if depth > _MAX_DEPTH:
        return
    own = chart / name
    if own.is_file():
        shown = display_name(own, root)
        yield shown, read_text(own, shown)
    charts = chart / "charts"
    if not charts.is_dir():
        return
    for sub in sorted(charts.iterdir()):
        if sub.is_dir():
            yield from _directory(sub, name, root, depth + 1)
        elif sub.name.endswith(_ARCHIVES) and sub.is_file():
            shown = display_name(sub, root)
            data = read_capped(sub, file_limits())
            if data is None:
                raise RenderError(f"{shown}: over the {file_limits().max_bytes}-byte file size limit "
                                  "(HANDOFF_MAX_FILE_BYTES)")
            yield from _archive(data, shown, name, depth + 1)


def _archive(data: bytes, shown: str, name: str, depth: int,
             nesting: int = 1) -> Iterator[tuple[str, str]]:
    """``name`` files of a chart archive: ``<chart>/name`` and ``<chart>/charts/…`` below it. Streamed:
    only a wanted member's bytes (at most Helm's per-file cap) are held, a nested archive's while read."""
    if depth > _MAX_DEPTH:
        return
    if nesting > MAX_ARCHIVE_NESTING:
        raise RenderError(f"{shown}: chart archives nested over {MAX_ARCHIVE_NESTING} deep")
    stream: BinaryIO = io.BytesIO(data)
    if data[:2] == b"\x1f\x8b":
        stream = cast("BinaryIO", gzip.GzipFile(fileobj=stream, mode="rb"))
    try:
        for member in go_tar_members(stream, shown):
            parts = PurePosixPath(posixpath.normpath(member.name.replace("\\", "/"))).parts
            dirs = parts[:-1]
            at_chart_level = bool(dirs) and all(d == "charts" for d in dirs[1::2])
            own = at_chart_level and len(dirs) % 2 == 1 and parts[-1] == name
            nested = at_chart_level and len(dirs) % 2 == 0 and parts[-1].endswith(_ARCHIVES)
            if member.is_dir or not (own or nested):
                continue
            where = f"{shown}:{member.name}"
            if member.size > MAX_MEMBER_BYTES:
                # Helm refuses such a chart too ("larger than the maximum file size")
                raise RenderError(f"{where}: over Helm's {MAX_MEMBER_BYTES}-byte limit for one chart file")
            content = member.read()
            if nested:
                yield from _archive(content, where, name, depth + 1, nesting + 1)
            else:
                yield where, content.decode("utf-8", errors="replace")
    except (OSError, EOFError, gzip.BadGzipFile) as e:
        raise RenderError(f"{shown}: not a readable chart archive ({e})") from None


__all__ = ["chart_files"]
