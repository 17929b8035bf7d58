"""The size budget of a checkout, read from the tree before any blob is written or inflated.

A config repo is untrusted: a blob of zeros compresses a thousandfold, so a ~300 KB push is a 300 MB file
in the working tree, and many small files fill a disk just as well. ``check_tree`` lists the revision's
tree (``git ls-tree -r -l``: sizes come from object headers, nothing is inflated) and refuses it, naming
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
    """Raise one ``RevisionRefused`` line naming the path when ``revision``'s tree is over ``budget``."""
    listing = git.run("ls-tree", "-r", "-l", "-z", "--full-tree", revision).stdout
    total = 0
    for count, entry in enumerate(filter(None, listing.split(b"\0")), start=1):
        header, _, raw_path = entry.partition(b"\t")
        path = raw_path.decode(errors="replace")
        if count > budget.max_files:
            raise RevisionRefused(f"revision {revision[:12]} holds more than {budget.max_files} files "
                                  f"(at {path}){git.context}; HANDOFF_MAX_CHECKOUT_FILES")
        size_field = header.split()[-1]
        if not size_field.isdigit():  # a submodule ("-"): nothing is checked out for it
            continue
        size = int(size_field)
        if size > budget.max_file_bytes:
            raise RevisionRefused(f"{path}: {size} bytes, over the {budget.max_file_bytes}-byte file limit, "
                                  f"in revision {revision[:12]}{git.context}; HANDOFF_MAX_FILE_BYTES")
        total += size
        if total > budget.max_total_bytes:
            raise RevisionRefused(f"revision {revision[:12]} is over {budget.max_total_bytes} bytes of files "
                                  f"(at {path}){git.context}; HANDOFF_MAX_CHECKOUT_BYTES")
