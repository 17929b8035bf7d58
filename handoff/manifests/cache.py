"""A small cache of composed YAML files, so one run composes each file once.

A dry-run propose reads ``.handoff.yaml`` and the target file from several steps (config, plan,
bump, the read-back of the current image). The key holds the file's path, mtime, size AND a hash of
the text just read, so a changed file (even one rewritten within the mtime's resolution) is never
served stale; composed nodes are never mutated by their users, so sharing them is safe.
"""

from __future__ import annotations

import hashlib
import os
from collections import OrderedDict
from collections.abc import Hashable
from pathlib import Path
from typing import Any

_ENTRIES = 32


class ComposeCache:
    def __init__(self, entries: int = _ENTRIES) -> None:
        self._entries = entries
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self.misses = 0
        self.hits = 0

    @staticmethod
    def key(path: Path, text: str, extra: Hashable) -> Hashable:
        try:
            stat = path.stat()
            where: tuple[str, int, int] = (os.path.abspath(path), stat.st_mtime_ns, stat.st_size)  # noqa: PTH100
        except OSError:
            where = (os.path.abspath(path), -1, -1)  # noqa: PTH100
        return (*where, hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest(), extra)

    def get(self, key: Hashable) -> Any:
        found = self._items.get(key)
        if found is None:
            self.misses += 1
            return None
        self.hits += 1
        self._items.move_to_end(key)
        return found

    def put(self, key: Hashable, value: Any) -> None:
        self._items[key] = value
        while len(self._items) > self._entries:
            self._items.popitem(last=False)

    def clear(self) -> None:
        self._items.clear()
