"""The size budget of a checkout, read from the tree before any blob is written or inflated.

A config repo is untrusted: a blob of zeros compresses a thousandfold, so a ~300 KB push is a 300 MB file
in the working tree, and many small files fill a disk just as well. ``check_tree`` lists the revision's
tree (``git ls-tree -r -l``: sizes come from object headers, nothing is inflated; the listing is counted as
git writes it, never held) and refuses it, naming
the path, when one blob is over the file-size limit every YAML reader has (``HANDOFF_MAX_FILE_BYTES``), or
the tree is over ``max_total_bytes`` or ``max_files`` (``HANDOFF_MAX_CHECKOUT_BYTES``/``_FILES``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from handoff.errors import RevisionRefused
from handoff.git.command import Git
from handoff.manifests.bounds import Limits

DEFAULT_MAX_CHECKOUT_BYTES = 512 * 1024 * 1024
DEFAULT_MAX_CHECKOUT_FILES = 50_000


@dataclass(frozen=True)
class TreeBudget:
    """What one checkout may hold: the largest file, the sum of all files, the number of entries."""

    max_file_bytes: int
    max_total_bytes: int = DEFAULT_MAX_CHECKOUT_BYTES
    max_files: int = DEFAULT_MAX_CHECKOUT_FILES

    @classmethod
    def from_env(cls) -> TreeBudget:
        total = os.environ.get("HANDOFF_MAX_CHECKOUT_BYTES", "")
        files = os.environ.get("HANDOFF_MAX_CHECKOUT_FILES", "")
        return cls(max_file_bytes=Limits.from_env().max_bytes,
                   max_total_bytes=int(total) if total.isdigit() else DEFAULT_MAX_CHECKOUT_BYTES,
                   max_files=int(files) if files.isdigit() else DEFAULT_MAX_CHECKOUT_FILES)


def check_tree(git: Git, revision: str, budget: TreeBudget) -> None:
    """Raise one ``RevisionRefused`` line naming the path when ``revision``'s tree is over ``budget``. The
    listing is read as git writes it and git is stopped at the first entry over the budget: a few KB of tree
    objects naming each other list as millions of paths, so the listing itself must never be held."""
    listing = _Listing(revision, budget, git.context)
    git.run("ls-tree", "-r", "-l", "-z", "--full-tree", revision, on_stdout=listing.feed)
    listing.feed(b"\0")  # -z ends every entry with NUL: this only flushes a last one that lacks it


class _Listing:
    """Counts ``ls-tree -r -l -z`` entries against a budget chunk by chunk, keeping only a partial entry."""

    def __init__(self, revision: str, budget: TreeBudget, context: str) -> None:
        self.revision, self.budget, self.context = revision, budget, context
        self.pending = b""
        self.files = 0
        self.total = 0

    def feed(self, chunk: bytes) -> None:
        entries = (self.pending + chunk).split(b"\0")
        self.pending = entries.pop()
        for entry in entries:
            if entry:
                self._count(entry)

    def _count(self, entry: bytes) -> None:
        header, _, raw_path = entry.partition(b"\t")
        path = raw_path.decode(errors="replace")
        self.files += 1
        if self.files > self.budget.max_files:
            raise RevisionRefused(f"revision {self.revision[:12]} holds more than {self.budget.max_files} "
                                  f"files (at {path}){self.context}; HANDOFF_MAX_CHECKOUT_FILES")
        size_field = header.split()[-1] if header.split() else b""
        if not size_field.isdigit():  # a submodule ("-"): nothing is checked out for it
            return
        size = int(size_field)
        if size > self.budget.max_file_bytes:
            raise RevisionRefused(f"{path}: {size} bytes, over the {self.budget.max_file_bytes}-byte file "
                                  f"limit, in revision {self.revision[:12]}{self.context}; "
                                  "HANDOFF_MAX_FILE_BYTES")
        self.total += size
        if self.total > self.budget.max_total_bytes:
            raise RevisionRefused(f"revision {self.revision[:12]} is over {self.budget.max_total_bytes} "
                                  f"bytes of files (at {path}){self.context}; HANDOFF_MAX_CHECKOUT_BYTES")
