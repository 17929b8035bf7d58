"""Read a policy YAML file once through the bounded YAML stack, keeping line numbers for errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from handoff.errors import ConfigError
from handoff.manifests import yamlio
from handoff.manifests.yamlio import line_of

__all__ = ["line_of", "load_documents", "plain"]


def load_documents(path: Path, display: str) -> Iterator[Any]:
    """Every non-empty document of ``path`` as located data (``line_of`` works on it)."""
    if not path.is_file():
        raise ConfigError("cannot read policy file: not a file", file=display)
    # bounded: an alias bomb in a config repo's policy dir must not hang the walk over the data
    _, documents = yamlio.load_file(path, display=display)
    for document in documents:
        data = yamlio.to_located(document)
        if data is not None:
            yield data


def plain(node: Any) -> Any:
    """Located data as plain JSON-compatible data (dicts and lists)."""
    if isinstance(node, dict):
        return {str(k): plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain(v) for v in node]
    return node
