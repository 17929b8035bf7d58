"""The files of one name Helm reads from a chart tree: the chart's own, every vendored subchart's
(``charts/<sub>/``, at any depth) and those inside subchart archives (``charts/<sub>.tgz``, archives in
archives included).

Helm loads each of them (``values.yaml`` merged under the subchart's key, ``values.schema.json``
resolved and applied), so whatever handoff scans or masks of one chart it must find in all of them.
Archives are read in memory with their total unpacked size bounded by the file size limit, and their entries
as Helm reads them: every entry that is not a directory is a file (see ``_member_data``).
"""

from __future__ import annotations

import copy
import io
import posixpath
import tarfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from handoff.errors import RenderError
from handoff.manifests.bounds import read_capped
from handoff.manifests.plain import display_name, read_text
from handoff.manifests.yamldocs import file_limits

_MAX_DEPTH = 50
# subchart archives Helm may load from charts/ (scanning one it skips costs nothing)
_ARCHIVES = (".tgz", ".tar.gz")


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


def _archive(data: bytes, shown: str, name: str, depth: int) -> Iterator[tuple[str, str]]:
    """``name`` files of a chart archive: ``<chart>/name`` and ``<chart>/charts/…`` below it."""
    if depth > _MAX_DEPTH:
        return
    budget = file_limits().max_bytes
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as archive:
            for member in archive:
                if member.offset_data + member.size > budget:
                    raise RenderError(f"{shown}: chart archive unpacks to more than {budget} bytes "
                                      "(HANDOFF_MAX_FILE_BYTES)")
                # the name as Helm reads it: backslashes are separators, and `x/../` is cleaned away
                parts = PurePosixPath(posixpath.normpath(member.name.replace("\\", "/"))).parts
                dirs = parts[:-1]
                at_chart_level = bool(dirs) and all(d == "charts" for d in dirs[1::2])
                own = at_chart_level and len(dirs) % 2 == 1 and parts[-1] == name
                nested = at_chart_level and len(dirs) % 2 == 0 and parts[-1].endswith(_ARCHIVES)
                if member.isdir() or not (own or nested):
                    continue
                content = _member_data(archive, member)
                where = f"{shown}:{member.name}"
                if nested:
                    yield from _archive(content, where, name, depth + 1)
                else:
                    yield where, content.decode("utf-8", errors="replace")
    except (tarfile.TarError, OSError, EOFError) as e:
        raise RenderError(f"{shown}: not a readable chart archive ({e})") from None


# tar types Go's archive/tar reads no data for (Helm loads them as empty files): links are not followed
_HEADER_ONLY = frozenset({tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.CHRTYPE, tarfile.BLKTYPE,
                          tarfile.FIFOTYPE})


def _member_data(archive: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    """The bytes Helm's archive loader reads for ``member``: it skips only directories and takes every other
    entry's data as a file's, whatever its tar type (a vendor type such as ``Z`` included)."""
    if member.type in _HEADER_ONLY:
        return b""
    if not member.isfile():
        # tarfile reads the data of regular types only: the same bytes under a regular type are Helm's
        member = copy.copy(member)
        member.type = tarfile.REGTYPE
    extracted = archive.extractfile(member)
    return extracted.read() if extracted is not None else b""


__all__ = ["chart_files"]
