"""Write plain data as YAML (generated manifests only: edits to existing files are byte splices;
renders are written canonically by ``canonical``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import yaml


def dump_all(documents: Iterable[Any]) -> str:
    """``documents`` as a multi-document YAML stream, keys in their given order."""
    return yaml.safe_dump_all(list(documents), sort_keys=False, default_flow_style=False)

