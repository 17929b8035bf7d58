"""``toolrun.run`` with a stdout reader: chunks reach it in order and are not kept; a reader that raises
stops the child (its whole group) and the exception is the caller's."""

from __future__ import annotations

import os

import pytest

from handoff.toolrun import run


def test_a_reader_gets_every_byte_in_order_and_nothing_is_kept() -> None:
    chunks: list[bytes] = []
    done = run(["sh", "-c", "seq 1 200000"], on_stdout=chunks.append)
    assert done.returncode == 0 and done.stdout == b""
    assert b"".join(chunks) == b"".join(f"{i}\n".encode() for i in range(1, 200_001))


class _Enough(Exception):
    pass


def test_a_reader_that_raises_kills_the_child_group() -> None:
    seen: list[bytes] = []

    def reader(chunk: bytes) -> None:
        seen.append(chunk)
        if b"\n" in b"".join(seen):
            raise _Enough

    with pytest.raises(_Enough):
        run(["sh", "-c", "echo $$; sleep 60 & exec yes"], on_stdout=reader, timeout=120)
    pid = int(b"".join(seen).split(b"\n")[0])
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)  # the shell's group (yes and its sleeping sibling) is gone
