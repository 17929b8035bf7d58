"""Render twice and flag objects whose output differs (``randAlphaNum``, timestamps, random UIDs):
a non-deterministic render means endless drift in the cluster and a noisy diff in every PR.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from handoff.manifests.model import RenderedObject, RenderResult
from handoff.report.model import Finding, Severity

RULE = "render/non-deterministic"


def _key(obj: RenderedObject) -> str:
    return str(obj.ref)


def _canonical(obj: RenderedObject) -> str:
    return json.dumps(obj.obj, sort_keys=True, default=str)


def _first_difference(a: object, b: object, path: str = "") -> str:
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if a.get(k) != b.get(k):
                return _first_difference(a.get(k), b.get(k), f"{path}.{k}" if path else str(k))
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            if x != y:
                return _first_difference(x, y, f"{path}[{i}]")
    return path


def check_determinism(render: Callable[[], RenderResult]) -> tuple[Finding, ...]:
    """Call ``render`` twice; one ERROR Finding per object that differs or appears once."""
    first, second = render(), render()
    before = {_key(o): o for o in first.objects}
    after = {_key(o): o for o in second.objects}
    findings: list[Finding] = []
    for key, obj in before.items():
        other = after.get(key)
        if other is None:
            findings.append(Finding(rule=RULE, severity=Severity.ERROR, file=obj.file, line=obj.line,
                                    message=f"{key} is rendered only on some runs", object=obj.ref,
                                    engine="render"))
            continue
        if _canonical(obj) != _canonical(other):
            path = _first_difference(obj.obj, other.obj)
            line, col = obj.locate(path)
            findings.append(Finding(rule=RULE, severity=Severity.ERROR, file=obj.file, line=line, column=col,
                                    path=path, object=obj.ref, engine="render",
                                    message=f"{key} differs between two renders at {path or 'the object'}"))
    findings.extend(
        Finding(rule=RULE, severity=Severity.ERROR, file=obj.file, line=obj.line, object=obj.ref,
                engine="render", message=f"{key} is rendered only on some runs")
        for key, obj in after.items() if key not in before
    )
    return tuple(findings)
