"""The files of one name Helm reads from a chart tree: the chart's own, every vendored subchart's
(``charts/<sub>/``, at any depth) and those inside subchart archives (``charts/<sub>.tgz``, archives in
archives included).

Helm loads each of them (``values.yaml`` merged under the subchart's key, ``values.schema.json``
resolved and applied), so whatever handoff scans or masks of one chart it must find in all of them.
Archives are streamed, each member capped at Helm's own per-file limit and their declared sizes at its
per-chart one, their entries named and typed as Go's archive/tar reads them (``handoff.render.tar_headers``)
and placed in the chart as Helm's archive loader places them (``helm_archive_path``).
"""

from __future__ import annotations

import gzip
import io
import posixpath
import re
from collections.abc import Iterator
from pathlib import Path
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
# ``MaxDecompressedChartSize``: Helm refuses an archive whose members declare more in all; nothing past it
# is read or skipped through
MAX_ARCHIVE_BYTES = 100 * 1024 * 1024
MAX_ARCHIVE_NESTING = 4
_DRIVE = re.compile(r"^[a-zA-Z]:/")


def chart_files(chart: Path, name: str, root: Path) -> Iterator[tuple[str, str]]:
    """``(display name, text)`` of every ``name`` file Helm reads from ``chart`` (the chart's first)."""
    yield from _directory(chart, name, root, 0, set())


def _directory(chart: Path, name: str, root: Path, depth: int, seen: set[Path]) -> Iterator[tuple[str, str]]:
    """``seen``: the directories walked already, each once (two links to ``..`` under ``charts/`` would
    otherwise walk 2**depth paths)."""
    real = chart.resolve()
    if depth > _MAX_DEPTH or real in seen:
        return
    seen.add(real)
    own = chart / name
    if own.is_file():
        shown = display_name(own, root)
        yield shown, read_text(own, shown)
    charts = chart / "charts"
    if not charts.is_dir():
        return
    for sub in sorted(charts.iterdir()):
        if sub.is_dir():
            yield from _directory(sub, name, root, depth + 1, seen)
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
    declared = 0
    try:
        for member in go_tar_members(stream, shown):
            if member.is_dir:
                continue  # Helm skips a directory before it looks at the name
            where = f"{shown}:{member.name}"
            declared += member.size
            if declared > MAX_ARCHIVE_BYTES:
                raise RenderError(f"{shown}: members over Helm's {MAX_ARCHIVE_BYTES}-byte limit for one "
                                  "chart archive")
            parts = helm_archive_path(member.name, where).split("/")
            # the path inside the archive's chart: ``name``, ``charts/<sub>/name``, …; a nested archive
            # ``charts/<sub>.tgz``, ``charts/<sub>/charts/<inner>.tgz``, …
            at_chart_level = all(d == "charts" for d in parts[:-1:2])
            own = at_chart_level and len(parts) % 2 == 1 and parts[-1] == name
            nested = at_chart_level and len(parts) % 2 == 0 and parts[-1].endswith(_ARCHIVES)
            if not (own or nested):
                continue
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


def helm_archive_path(member: str, where: str) -> str:
    """The path inside its chart that Helm's archive loader (pkg/chart/loader/archive.go) gives the member
    named ``member`` (at ``where``): the name split on ``\\`` alone when it holds one (a ``/`` then stays
    inside a part), else on ``/``; the first part (the chart's directory) dropped; cleaned as Go's
    ``path.Clean`` (a trailing ``/`` dropped). A name Helm refuses the whole archive for is refused too."""
    parts = member.split("\\" if "\\" in member else "/")
    inside = "/".join(parts[1:])
    if parts[0] == "Chart.yaml" or inside.startswith("/"):
        raise RenderError(f"{where}: Helm refuses a chart archive member named so (a Chart.yaml not in the "
                          "chart's directory, or an absolute path)")
    cleaned = posixpath.normpath(inside)  # as path.Clean for a relative path ("" is "." for both)
    if cleaned == "." or cleaned.startswith("..") or _DRIVE.match(cleaned):
        raise RenderError(f"{where}: Helm refuses a chart archive member named so (outside the chart's "
                          "directory)")
    return cleaned


__all__ = ["MAX_ARCHIVE_BYTES", "chart_files", "helm_archive_path"]
