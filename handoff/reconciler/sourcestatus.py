"""A Source object's ``status``, by Kubernetes conventions and kstatus: ``observedGeneration``, the
``Ready`` / ``Reconciling`` / ``Stalled`` conditions, the revisions, the last handled sync request and
bounded inventory, drift and prune summaries. Written through the ``status`` subresource, only when it
changed, so a steady loop writes nothing."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from handoff.kube.client import KubeClient
from handoff.reconciler.sourcecrd import API_VERSION, KIND, SourceObject
from handoff.reconciler.status import MAX_LIST, MAX_MESSAGE, PassResult, now_rfc3339, printable
from handoff.redact import redact

READY, RECONCILING, STALLED = "Ready", "Reconciling", "Stalled"
TRUE, FALSE, UNKNOWN = "True", "False", "Unknown"
# a failure a later pass may clear by itself (Reconciling: retrying) vs one that needs a new revision or
# spec (Stalled); a conflict clears when the other source lets the object go
_RETRYING = frozenset({"git", "kube-unavailable", "apply", "bug", "conflict"})
_REASONS = {"git": "GitOperationFailed", "render": "RenderFailed", "validate": "ValidationFailed",
            "apply": "ApplyFailed", "refused": "Refused", "authority": "AuthorityDenied",
            "conflict": "Conflict",
            "kube-unavailable": "APIServerUnavailable", "bug": "InternalError"}


def _clip(text: str, limit: int = MAX_MESSAGE) -> str:
    text = " ".join(printable(redact(text)).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def reason_of(r: PassResult) -> str:
    if r.ok:
        return "ReconciliationSucceeded"
    return _REASONS.get(r.error_kind, "ReconciliationFailed")


def condition(type_: str, status: str, reason: str, message: str, generation: int) -> dict[str, Any]:
    return {"type": type_, "status": status, "reason": reason, "message": _clip(message),
            "observedGeneration": generation, "lastTransitionTime": now_rfc3339()}


def conditions_of(r: PassResult, generation: int) -> list[dict[str, Any]]:
    reason, message = reason_of(r), r.message
    if r.ok:
        return [condition(READY, TRUE, reason, message, generation),
                condition(RECONCILING, FALSE, reason, "", generation),
                condition(STALLED, FALSE, reason, "", generation)]
    retrying = r.error_kind in _RETRYING
    return [condition(READY, FALSE, reason, message, generation),
            condition(RECONCILING, TRUE if retrying else FALSE, "Retrying" if retrying else reason,
                      message if retrying else "", generation),
            condition(STALLED, FALSE if retrying else TRUE, reason, "" if retrying else message, generation)]


def progressing(generation: int) -> list[dict[str, Any]]:
    """A new generation seen, its pass not finished yet."""
    message = f"reconciling generation {generation}"
    return [condition(READY, UNKNOWN, "Progressing", message, generation),
            condition(RECONCILING, TRUE, "Progressing", message, generation),
            condition(STALLED, FALSE, "Progressing", "", generation)]


def stalled(reason: str, message: str, generation: int) -> list[dict[str, Any]]:
    """The object itself is unusable (a bad spec, a missing or foreign Secret): no pass runs."""
    return [condition(READY, FALSE, reason, message, generation),
            condition(RECONCILING, FALSE, reason, "", generation),
            condition(STALLED, TRUE, reason, message, generation)]


def _names(refs: Sequence[Any]) -> list[str]:
    return [_clip(str(x), 300) for x in refs[:MAX_LIST]]


def status_of(obj: SourceObject, r: PassResult) -> dict[str, Any]:
    """The status after pass ``r`` of ``obj``."""
    return {
        "observedGeneration": obj.generation,
        "conditions": conditions_of(r, obj.generation),
        "lastAppliedRevision": r.applied_revision,
        "lastAttemptedRevision": r.attempted_revision,
        "lastHandledRequestedAt": obj.requested_at or str(obj.status.get("lastHandledRequestedAt", "")),
        "inventory": {"count": r.objects},
        "drift": {"count": len(r.drift), "reverted": r.drift_reverted,
                  "objects": _names([d.ref for d in r.drift])},
        "prune": {"deleted": len(r.pruned), "kept": len(r.prune_kept), "objects": _names(r.pruned)},
    }


def merged(previous: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """``new``, with each condition's ``lastTransitionTime`` kept from ``previous`` when its status did
    not change (the convention: the time names the transition, not the write)."""
    before = {c.get("type"): c for c in previous.get("conditions") or () if isinstance(c, Mapping)}
    out = dict(new)
    conditions = []
    for c in new.get("conditions") or ():
        old = before.get(c["type"])
        same = old is not None and old.get("status") == c["status"] and old.get("lastTransitionTime")
        conditions.append({**c, "lastTransitionTime": old["lastTransitionTime"]} if same and old else c)
    out["conditions"] = conditions
    return out


def caught_up(previous: Mapping[str, Any], generation: int) -> dict[str, Any]:
    """``previous`` status, its conditions unchanged, as observed at ``generation``: for a new generation
    that changes no setting, so no pass is needed to observe it."""
    conditions = [{**c, "observedGeneration": generation} for c in previous.get("conditions") or ()
                  if isinstance(c, Mapping)]
    return {**previous, "observedGeneration": generation, "conditions": conditions}


def patch(client: KubeClient, namespace: str, name: str, uid: str, status: Mapping[str, Any], *,
          resource_version: str = "") -> str:
    """Write ``status`` through the status subresource of the object with ``uid`` only, so a pass of a
    deleted Source never writes onto a re-created object of its name; with ``resource_version``, only
    onto that version, so a status computed from an older one never replaces a newer write (``/status``
    is replaced whole). The preconditions are JSON patch ``test`` ops: the API server applies them to the
    stored object (422 on a mismatch); a uid in a merge patch body is no precondition on ``/status`` (its
    strategy copies the stored metadata over the patched object). The new resourceVersion; raises
    KubeError."""
    ops: list[dict[str, Any]] = [{"op": "test", "path": "/metadata/uid", "value": uid}] if uid else []
    if resource_version:
        ops.append({"op": "test", "path": "/metadata/resourceVersion", "value": resource_version})
    ops.append({"op": "add", "path": "/status", "value": dict(status)})
    path = client.resource(API_VERSION, KIND).path(namespace, name) + "/status"
    written = client.request("PATCH", path, body=ops, content_type="application/json-patch+json")
    return str(((written or {}).get("metadata") or {}).get("resourceVersion") or "")
