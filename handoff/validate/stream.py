"""``handoff validate -``: a manifest stream read from stdin, under the same size limit as a file.

kubeconform names it ``stdin`` in its reports; so do we. The stream is read in chunks and refused as
soon as it passes the limit, so a hostile pipe is never held whole.
"""

from __future__ import annotations

from typing import BinaryIO

from handoff.errors import RenderError, UsageError
from handoff.manifests.bounds import Limits
from handoff.manifests.yamldocs import file_limits

STDIN = "-"
STDIN_NAME = "stdin"
_CHUNK = 1 << 20


def read_stream(stream: BinaryIO, name: str = STDIN_NAME, limits: Limits | None = None) -> str:
    """The stream's UTF-8 text; over ``limits.max_bytes`` (``HANDOFF_MAX_FILE_BYTES``) is a RenderError.
    A terminal is refused: nothing was piped in (an empty pipe is an empty stream, as in kubeconform)."""
    if stream.isatty():
        raise UsageError(f"{name}: nothing piped in: '-' reads manifests from stdin "
                         "(e.g. helm template … | handoff validate -)")
    cap = (limits or file_limits()).max_bytes
    chunks: list[bytes] = []
    size = 0
    while chunk := stream.read(_CHUNK):
        size += len(chunk)
        if size > cap:
            raise RenderError(f"{name}: over the {cap}-byte file size limit (HANDOFF_MAX_FILE_BYTES)")
        chunks.append(chunk)
    data = b"".join(chunks)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise RenderError(f"{name}: not UTF-8 text ({e.reason} at byte {e.start})") from e


__all__ = ["STDIN", "STDIN_NAME", "read_stream"]
