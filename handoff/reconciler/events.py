"""Kubernetes Events about an object, bounded as client-go's event aggregation bounds them: a repeat of
the same (object, type, reason) does not create another Event, whatever its message says, but counts on
the first one (``count``, ``lastTimestamp``) and carries the latest message. A failure whose message
varies from pass to pass (a timestamp, a request id, a random name in a chart's ``fail``) is then one
Event per Source and reason, not one per pass. The Event's name is derived from that identity, so a
restarted reconciler counts on the Event its predecessor created instead of adding one."""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

from handoff.kube.client import KubeClient, KubeError
from handoff.reconciler.sourcestatus import reason_of
from handoff.reconciler.status import MAX_LIST, PassResult, clip, now_rfc3339
from handoff.report.model import ObjectRef

log = logging.getLogger("handoff.reconciler")
COMPONENT = "handoff-reconciler"
NORMAL, WARNING = "Normal", "Warning"
_ATTEMPT = re.compile(r" \(attempt \d+, [^)]*\)$")  # the retry note the loop adds: not part of what happened
_NAMED = 5  # objects named in one Event's message


@dataclass(frozen=True)
class PassEvent:
    reason: str
    message: str
    warning: bool = False


def _named(refs: Sequence[object], total: int) -> str:
    shown = ", ".join(str(r) for r in refs[:_NAMED])
    return shown + (f" and {total - _NAMED} more" if total > _NAMED else "")


def pass_events(r: PassResult) -> list[PassEvent]:
    """What a pass tells the Source object's Events, as Flux's controllers do: a revision applied, a
    revision rejected (or a pass failed), objects pruned, drift reverted or detected."""
    out = []
    if not r.ok:
        out.append(PassEvent(reason_of(r), _ATTEMPT.sub("", r.message), warning=True))
    elif r.applied and not r.drift:
        out.append(PassEvent("ReconciliationSucceeded", f"{r.message}: {r.objects} object(s)"))
    if r.pruned:
        names = _named(r.pruned, len(r.pruned))
        out.append(PassEvent("Pruned", f"pruned {len(r.pruned)} object(s): {names}"))
    if r.drift:
        refs = [d.ref for d in r.drift[:MAX_LIST]]
        verb = "reverted" if r.drift_reverted else "detected"
        out.append(PassEvent("DriftReverted" if r.drift_reverted else "DriftDetected",
                             f"drift {verb} in {len(r.drift)} object(s): {_named(refs, len(r.drift))}",
                             warning=True))
    return out


@dataclass(frozen=True)
class Involved:
    """The object an Event is about (``uid`` lets ``kubectl describe`` match it)."""

    ref: ObjectRef
    uid: str = ""


def event_name(about: Involved, type_: str, reason: str) -> str:
    """One name per (object, type, reason): never the message, which a tenant's repository can vary."""
    digest = hashlib.sha256("\0".join((about.uid, str(about.ref), type_, reason)).encode())
    return f"{about.ref.name[:200]}.{digest.hexdigest()[:16]}"


class EventRecorder:
    def __init__(self, client: KubeClient) -> None:
        self.client = client

    def record(self, about: Involved, reason: str, message: str, *, warning: bool = False) -> None:
        """Create the Event, or count one more on its namesake and give it this ``message``; a failure is
        logged, never raised (an Event is a courtesy, not a reason to fail a pass)."""
        type_ = WARNING if warning else NORMAL
        text = clip(message)
        name = event_name(about, type_, reason)
        ref = about.ref
        stamp = now_rfc3339()
        involved = {"apiVersion": ref.api_version, "kind": ref.kind, "name": ref.name,
                    "namespace": ref.namespace, **({"uid": about.uid} if about.uid else {})}
        try:
            try:
                self.client.create({
                    "apiVersion": "v1", "kind": "Event",
                    "metadata": {"name": name, "namespace": ref.namespace}, "involvedObject": involved,
                    "reason": reason, "message": text, "type": type_,
                    "source": {"component": COMPONENT}, "reportingComponent": COMPONENT,
                    "firstTimestamp": stamp, "lastTimestamp": stamp, "count": 1,
                })
                return
            except KubeError as e:
                if e.status != 409:
                    raise
            existing = self.client.get("v1", "Event", name, ref.namespace) or {}
            self.client.patch(ObjectRef("v1", "Event", name, ref.namespace),
                              {"count": int(existing.get("count") or 1) + 1, "lastTimestamp": stamp,
                               "message": text},
                              content_type="application/merge-patch+json")
        except KubeError as e:
            log.warning("cannot record an event",
                        extra={"object": str(ref), "reason": reason, "error": str(e)})
