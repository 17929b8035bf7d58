"""Rendered objects as canonical YAML: sorted by kind/namespace/name with sorted keys, so a diff of
two renders shows only real changes (the rendered diff of a proposal). Sensitive values (a Secret's
``data``/``stringData``, fields a config declares) are masked, never written, and so is any copy of one
in another field of any object shown, before it is serialised: see ``sensitive``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import yaml

from handoff.manifests.model import RenderedObject
from handoff.manifests.sensitive import (
    BUILTIN_FIELDS,
    KnownValues,
    SensitiveField,
    masked_object,
    secret_strings,
)


def _identity(obj: RenderedObject) -> tuple[str, str, str]:
    ref = obj.ref
    return ref.kind, ref.namespace, ref.name


def canonical_yaml(objects: Sequence[RenderedObject], rules: Sequence[SensitiveField] = BUILTIN_FIELDS,
                   *, against: Sequence[RenderedObject] | None = None,
                   side: Literal["before", "after"] = "after") -> str:
    """``objects`` as canonical YAML. With ``against`` (the other side of a diff), each masked value
    says whether it was ``changed``, ``added`` or ``removed`` relative to it, so a Secret whose value
    moves still shows in the diff."""
    ordered = sorted(objects, key=lambda o: (o.ref.kind, o.ref.namespace, o.ref.name, o.ref.api_version))
    others: Mapping[tuple[str, str, str], Mapping[str, Any]] | None = (
        None if against is None else {_identity(o): o.obj for o in against})
    known = KnownValues(secret_strings((o.obj for o in (*objects, *(against or ()))), rules))

    def shown(o: RenderedObject) -> str:
        other = None if others is None else others.get(_identity(o), {})
        return yaml.safe_dump(dict(masked_object(o.obj, rules, other, side=side, known=known)),
                              sort_keys=True, default_flow_style=False)

    return "".join(f"---\n# {o.ref} ({o.file})\n" + shown(o) for o in ordered)


__all__ = ["canonical_yaml"]
