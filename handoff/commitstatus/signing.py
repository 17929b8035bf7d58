"""Signed local-forge statuses: on the local forge the notes ref lives in the config repo, so anyone who
can push the config repo can write a status. With a key shared by the reconciler and the readers (a
file, ``status.keyFile`` / ``--status-key-file``), each entry carries an HMAC-SHA256 over what it
claims (commit, context, state, description), and a reader holding the key ignores every entry whose
signature does not verify. A replay of an older, validly signed entry of the same commit and context
stays possible (the notes ref's history holds them)."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

from handoff.errors import UsageError

MIN_KEY_BYTES = 16
_VERSION = "handoff-status-v1"


def read_key(path: Path, *, key: str) -> bytes:
    """The key in ``path`` (surrounding whitespace dropped): at least ``MIN_KEY_BYTES`` bytes."""
    try:
        data = path.read_bytes().strip()
    except OSError as e:
        raise UsageError(f"cannot read the status key: {e.strerror}", file=str(path), key=key) from e
    if len(data) < MIN_KEY_BYTES:
        raise UsageError(f"the status key must hold at least {MIN_KEY_BYTES} bytes (e.g. `openssl rand "
                         "-hex 32`)", file=str(path), key=key)
    return data


def sign(key: bytes, commit: str, context: str, state: str, description: str) -> str:
    message = json.dumps([_VERSION, commit, context, state, description], separators=(",", ":"))
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def verified(signature: object, key: bytes, *, commit: str, context: str, state: str,
             description: str) -> bool:
    return isinstance(signature, str) and hmac.compare_digest(
        sign(key, commit, context, state, description), signature)
