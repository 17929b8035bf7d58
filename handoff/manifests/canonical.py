"""Rendered objects as canonical YAML: sorted by kind/namespace/name with sorted keys, so a diff of
two renders shows only real changes (the rendered diff of a proposal)."""

from __future__ import annotations

from collections.abc import Sequence

import yaml

from handoff.manifests.model import RenderedObject


def canonical_yaml(objects: Sequence[RenderedObject]) -> str:
    ordered = sorted(objects, key=lambda o: (o.ref.kind, o.ref.namespace, o.ref.name, o.ref.api_version))
    return "".join(
        f"---\n# {o.ref} ({o.file})\n" + yaml.safe_dump(dict(o.obj), sort_keys=True, default_flow_style=False)
        for o in ordered
    )
