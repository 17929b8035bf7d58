"""Write plain data as YAML (generated manifests only: edits to existing files are byte splices)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import yaml


def dump_all(documents: Iterable[Any]) -> str:
    """``documents`` as a multi-document YAML stream, keys in their given order."""
    return yaml.safe_dump_all(list(documents), sort_keys=False, default_flow_style=False)


def dump_canonical(data: Any) -> str:
    """One document with sorted keys: the same data always gives the same text (for digests, diffs)."""
    return yaml.safe_dump(data, sort_keys=True, default_flow_style=False)
