"""A tar stream's members named and sized as Go's ``archive/tar`` reads them (Helm loads chart archives so).

Python's ``tarfile`` resolves names differently from Go's reader where extended headers combine: it copies
PAX *global* records into every later member (Go applies them to nothing), lets the outer of two stacked PAX
headers win (Go: the last), and applies a PAX ``path`` after a GNU long name (Go: the long name wins). A scan
that named members as Python does would look at other files than Helm loads. This reader follows Go's
``Reader.Next`` and refuses what the two could read differently at all: a global header, two extended headers
before one member, GNU sparse members. It streams: a member's bytes are read only when asked for, an
extended header only up to Go's 1 MiB ``maxSpecialFileSize``, and a numeric field only as Go reads it (octal
ASCII digits, or base-256; never negative), so no declared size makes it hold or skip what Go would not.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from handoff.errors import RenderError

_BLOCK = 512
_ZERO = bytes(_BLOCK)
_HEADER_ONLY = frozenset(b"123456")  # link, symlink, char, block, directory, fifo: Go reads no data
_META = frozenset(b"xgLK")
_CHUNK = 1 << 16
# Go's ``maxSpecialFileSize``: a PAX or GNU long-name header larger than this is ErrFieldTooLong for Go
MAX_EXTENDED_HEADER_BYTES = 1 << 20
_OCTAL = re.compile(rb"[0-7]+")
_DECIMAL = re.compile(r"[0-9]+")  # ``str.isdigit`` also takes '²' and other digits ``int`` then refuses
_S_IFDIR = 0o040000  # the type bits of a directory in a mode field


@dataclass(frozen=True)
class TarMember:
    name: str
    size: int
    is_dir: bool
    read: Callable[[], bytes]  # the member's data (call at most once, before the next member)


def go_tar_members(stream: BinaryIO, shown: str) -> Iterator[TarMember]:
    """The members of the tar ``stream`` (of archive ``shown``) as Go's reader returns them."""
    pending: str | None = None  # the extended header read since the last member (refused when stacked)
    global_header = False
    ambiguous = ""  # why the next member's name could differ between Python and Go (refused naming it)
    pax: dict[str, str] = {}
    long_name = ""
    while True:
        block = _read_exact(stream, _BLOCK, shown, allow_eof=True)
        if not block or block == _ZERO:
            if block and _read_exact(stream, _BLOCK, shown, allow_eof=True) not in (b"", _ZERO):
                raise RenderError(f"{shown}: not a readable chart archive (a zero block inside it)")
            if ambiguous or global_header:
                raise RenderError(_refusal(shown, ambiguous or "a PAX global header", ""))
            return
        _check_sum(block, shown)
        kind = block[156]
        size = _number(block[124:136], shown)
        if kind == ord("S"):
            raise RenderError(f"{shown}: chart archive holds a GNU sparse member: refused")
        if kind in _META:
            if kind == ord("g"):
                global_header = True  # refused at the member Python would rename with it, else at the end
            elif pending is not None:
                stacked = f"two extended headers ({pending}, then {chr(kind)!r}) before one member"
                ambiguous = ambiguous or stacked
            pending = repr(chr(kind)) if kind != ord("g") else pending
            if size > MAX_EXTENDED_HEADER_BYTES:
                raise RenderError(f"{shown}: not a readable chart archive (an extended header of {size} "
                                  f"bytes, over Go's {MAX_EXTENDED_HEADER_BYTES})")
            data = _read_exact(stream, size, shown)
            _skip(stream, -size % _BLOCK, shown)
            if kind == ord("x"):
                pax = _pax_records(data, shown)
            elif kind == ord("L"):
                long_name = _c_string(data)
            continue
        name = long_name or pax.get("path") or _header_name(block)
        if "size" in pax:
            size = _decimal(pax["size"], shown)
        if any(key.startswith("GNU.sparse") for key in pax):
            raise RenderError(f"{shown}: chart archive holds a GNU sparse member ({name!r}): refused")
        if global_header and pending is not None:
            ambiguous = ambiguous or "a PAX global header"
        if ambiguous:
            raise RenderError(_refusal(shown, ambiguous, name))
        # Helm skips what Go's ``FileInfo().IsDir()`` says: a directory type, a legacy NUL-type member whose
        # name ends in "/" (a "0" one stays a file: Helm cleans the slash off and loads it), or a mode field
        # whose type bits are a directory's
        mode = _number(block[100:108], shown, "mode") & 0xFFFFFFFF
        is_dir = kind == ord("5") or (kind == 0 and name.endswith("/")) or mode & ~0o7777 == _S_IFDIR
        data_size = 0 if kind in _HEADER_ONLY else size
        pending, pax, long_name = None, {}, ""
        remaining = [data_size]

        def read(left: list[int] = remaining) -> bytes:
            data = _read_exact(stream, left[0], shown)
            left[0] = 0
            return data

        yield TarMember(name=name, size=data_size, is_dir=is_dir, read=read)
        _skip(stream, remaining[0] + (-data_size % _BLOCK), shown)


def _refusal(shown: str, why: str, member: str) -> str:
    named = f" (at member {member!r})" if member else ""
    return (f"{shown}: chart archive holds {why}{named}: Python and Helm (Go) could read its member names "
            "differently, so it is refused (re-create it with `helm package`)")


def _header_name(block: bytes) -> str:
    """The name field, with the prefix where Go's ``getFormat`` finds one: star's shorter prefix for the
    ``ustar\\0`` magic with star's trailer, else the ustar prefix for that magic whatever the version
    field says (GNU's ``ustar `` magic and v7 headers have none)."""
    name = _c_string(block[0:100])
    prefix = ""
    if block[257:263] == b"ustar\x00":
        prefix = _c_string(block[345:476] if block[508:512] == b"tar\x00" else block[345:500])
    return f"{prefix}/{name}" if prefix else name


def _c_string(data: bytes) -> str:
    return data.split(b"\x00", 1)[0].decode("utf-8", errors="replace")


def _number(field: bytes, shown: str, what: str = "size") -> int:
    """Go's ``parseNumeric``: base-256 when the high bit is set (a negative one refused, as a value over
    63 bits is by Go), else octal ASCII digits between spaces and NULs (no sign, ``_`` or ``0o``, which
    ``int`` would take and Go refuses)."""
    if field and field[0] & 0x80:
        if field[0] & 0x40:
            raise RenderError(f"{shown}: not a readable chart archive (a negative {what} field)")
        value = int.from_bytes(bytes([field[0] & 0x7F]) + field[1:], "big")
        if value >> 63:
            raise RenderError(f"{shown}: not a readable chart archive (a {what} field over 63 bits)")
        return value
    text = field.strip(b" \x00")
    if not text:
        return 0
    if _OCTAL.fullmatch(text) is None:
        raise RenderError(f"{shown}: not a readable chart archive (a bad {what} field)")
    return int(text, 8)


def _decimal(text: str, shown: str) -> int:
    if _DECIMAL.fullmatch(text) is None:
        raise RenderError(f"{shown}: not a readable chart archive (a bad PAX size record)")
    return int(text)


def _check_sum(block: bytes, shown: str) -> None:
    stored = _number(block[148:156], shown, "checksum")
    unsigned = sum(block[:148]) + 8 * 0x20 + sum(block[156:])
    signed = sum(b - 256 if b > 127 else b for b in block[:148] + block[156:]) + 8 * 0x20
    if stored not in (unsigned, signed):
        raise RenderError(f"{shown}: not a readable chart archive (a header checksum mismatch)")


def _pax_records(data: bytes, shown: str) -> dict[str, str]:
    """``length key=value\\n`` records, later ones replacing earlier (Go's ``parsePAX``)."""
    records: dict[str, str] = {}
    rest = data
    while rest:
        length_text, space, _ = rest.partition(b" ")
        if not space or _DECIMAL.fullmatch(length_text.decode("latin-1")) is None \
                or not 5 <= int(length_text) <= len(rest):
            raise RenderError(f"{shown}: not a readable chart archive (a bad PAX record)")
        record, rest = rest[:int(length_text)], rest[int(length_text):]
        key, equals, value = record[len(length_text) + 1:].partition(b"=")
        if not equals or not value.endswith(b"\n"):
            raise RenderError(f"{shown}: not a readable chart archive (a bad PAX record)")
        records[key.decode("utf-8", errors="replace")] = value[:-1].decode("utf-8", errors="replace")
    return records


def _read_exact(stream: BinaryIO, size: int, shown: str, *, allow_eof: bool = False) -> bytes:
    if size < 0:  # ``read(-1)`` would read the whole rest of the stream
        raise RenderError(f"{shown}: not a readable chart archive (a negative size)")
    data = stream.read(size) if size else b""
    if len(data) != size and not (allow_eof and not data):
        raise RenderError(f"{shown}: not a readable chart archive (truncated)")
    return data


def _skip(stream: BinaryIO, size: int, shown: str) -> None:
    while size > 0:
        got = len(stream.read(min(size, _CHUNK)))
        if got == 0:
            raise RenderError(f"{shown}: not a readable chart archive (truncated)")
        size -= got


__all__ = ["MAX_EXTENDED_HEADER_BYTES", "TarMember", "go_tar_members"]
