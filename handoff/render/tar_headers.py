"""A tar stream's members named and sized as Go's ``archive/tar`` reads them (Helm loads chart archives so).

Python's ``tarfile`` resolves names differently from Go's reader where extended headers combine: it copies
PAX *global* records into every later member (Go applies them to nothing), lets the outer of two stacked PAX
headers win (Go: the last), and applies a PAX ``path`` after a GNU long name (Go: the long name wins). A scan
that named members as Python does would look at other files than Helm loads. This reader follows Go's
``Reader.Next`` and refuses what the two could read differently at all: a global header, two extended headers
before one member, GNU sparse members. It streams: a member's bytes are read only when asked for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from handoff.errors import RenderError

_BLOCK = 512
_ZERO = bytes(_BLOCK)
_HEADER_ONLY = frozenset(b"123456")  # link, symlink, char, block, directory, fifo: Go reads no data
_META = frozenset(b"xgLK")
_CHUNK = 1 << 16


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
        is_dir = kind == ord("5") or (kind in (0, ord("0")) and name.endswith("/"))
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
    """The name field, with the ustar prefix where Go applies one (ustar/PAX magic; star's shorter prefix)."""
    name = _c_string(block[0:100])
    magic, version = block[257:263], block[263:265]
    prefix = ""
    if magic == b"ustar\x00" and block[508:512] == b"tar\x00":
        prefix = _c_string(block[345:476])
    elif magic == b"ustar\x00" and version == b"00":
        prefix = _c_string(block[345:500])
    return f"{prefix}/{name}" if prefix else name


def _c_string(data: bytes) -> str:
    return data.split(b"\x00", 1)[0].decode("utf-8", errors="replace")


def _number(field: bytes, shown: str) -> int:
    """Go's ``parseNumeric``: base-256 when the high bit is set, else octal between spaces and NULs."""
    if field and field[0] & 0x80:
        value = int.from_bytes(bytes([field[0] & 0x7F]) + field[1:], "big")
        if field[0] & 0x40:
            raise RenderError(f"{shown}: not a readable chart archive (a negative size)")
        return value
    text = field.strip(b" \x00")
    try:
        return int(text, 8) if text else 0
    except ValueError:
        raise RenderError(f"{shown}: not a readable chart archive (a bad size field)") from None


def _decimal(text: str, shown: str) -> int:
    if not text.isdigit():
        raise RenderError(f"{shown}: not a readable chart archive (a bad PAX size record)")
    return int(text)


def _check_sum(block: bytes, shown: str) -> None:
    stored = _number(block[148:156], shown)
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
        if not space or not length_text.isdigit() or int(length_text) > len(rest) or int(length_text) < 5:
            raise RenderError(f"{shown}: not a readable chart archive (a bad PAX record)")
        record, rest = rest[:int(length_text)], rest[int(length_text):]
        key, equals, value = record[len(length_text) + 1:].partition(b"=")
        if not equals or not value.endswith(b"\n"):
            raise RenderError(f"{shown}: not a readable chart archive (a bad PAX record)")
        records[key.decode("utf-8", errors="replace")] = value[:-1].decode("utf-8", errors="replace")
    return records


def _read_exact(stream: BinaryIO, size: int, shown: str, *, allow_eof: bool = False) -> bytes:
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


__all__ = ["TarMember", "go_tar_members"]
