"""Putting back what a rejected revision changed: an object the previous revision rendered gets that
manifest again (server-side apply under the same field manager, so the fields the rejected revision added
go), an object the pass adopted gets its pre-pass content back (replaced with its snapshot, managedFields
included), and an object the pass created is deleted by uid.

A change that cannot be undone in place (a ConfigMap or Secret the revision makes ``immutable``, a
PersistentVolumeClaim it grows) is applied after every other object of the revision (:func:`freezes`), so
a rejection mostly comes before it. A step
the API server still refuses because a field became immutable deletes and re-creates the object when this
source owns it, as ``kubectl replace --force`` does; any other refused step is returned as a problem, for
the status to name, never skipped silently. A step an admission object the undo just deleted or put back
still refuses is tried again for a moment (:func:`past_lag`): the API server's policy cache lags."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from handoff.kube.client import KubeClient, KubeError, KubeUnavailable
from handoff.policy.quantity import parse_quantity
from handoff.reconciler.apply import Applied, apply_one
from handoff.reconciler.inventory import Inventory
from handoff.reconciler.objects import ObjectKey, key_of, owned_by, ref_of
from handoff.report.model import ObjectRef

_GONE_WAIT_SECONDS = 30.0
# set by the API server: a re-created object gets its own
_SERVER_METADATA = ("uid", "resourceVersion", "creationTimestamp", "deletionTimestamp",
                    "deletionGracePeriodSeconds", "generation", "selfLink")


@dataclass(frozen=True)
class Updated:
    """An object the pass changed, as it was before: ``snapshot`` is its live content then ({} when this
    identity could not read it)."""

    key: ObjectKey
    ref: ObjectRef
    snapshot: Mapping[str, Any]


@dataclass
class Undo:
    """What a pass changed while applying a revision, to put back if the API server rejects a later object."""

    previous: Inventory | None  # the inventory before the pass
    created: list[Applied] = field(default_factory=list)
    updated: list[Updated] = field(default_factory=list)
    crds: list[dict[str, Any]] = field(default_factory=list)  # changed CRDs as they were before the pass

    def __post_init__(self) -> None:
        # objects an unfinished (killed) pass created, among ``created`` from the start
        self.created_before = frozenset(key_of(a.ref) for a in self.created)


@dataclass(frozen=True)
class Problem:
    """A roll-back step that did not happen."""

    ref: ObjectRef
    why: str

    def __str__(self) -> str:
        return f"{self.ref} ({self.why})"


def admission_names(objects: Iterable[Mapping[str, Any] | None]) -> frozenset[str]:
    """The names an API server denial quotes for these admission objects: each one's own (a policy, its
    binding) and its webhooks' (a webhook configuration's denial names the webhook)."""
    return frozenset(str(n) for obj in objects if obj
                     for n in (((obj.get("metadata") or {}).get("name")),
                               *((w or {}).get("name") for w in obj.get("webhooks") or ()
                                 if isinstance(w, Mapping))) if n)


def refused_by(message: str, names: Collection[str]) -> bool:
    """Whether an API server denial names one of ``names`` (a policy as 'name', a webhook as "name")."""
    return any(f"'{name}'" in message or f'"{name}"' in message for name in names)


def past_lag(ref: ObjectRef, step: Callable[[], Problem | None], names: Collection[str],
             deadline: float) -> Problem | None:
    """Run the roll-back ``step`` of ``ref``, again (until ``deadline``, ``time.monotonic``) while an
    admission object of ``names`` refuses it: one the undo just deleted or put back is still enforced in
    its revision's version for a moment (the API server's policy cache lags), and a refused write changed
    nothing. A webhook of theirs that cannot be called (the API server answers 500, unavailable) refuses
    it too."""
    while True:
        try:
            problem = step()
        except KubeUnavailable as e:
            if not refused_by(str(e), names):
                raise
            problem = Problem(ref, str(e))
        if problem is None or not refused_by(problem.why, names) or time.monotonic() > deadline:
            return problem
        time.sleep(0.5)


def _becomes_immutable(obj: Mapping[str, Any], live: Mapping[str, Any]) -> bool:
    return obj.get("immutable") is True and live.get("immutable") is not True


def _storage(obj: Mapping[str, Any]) -> Any:
    return (((obj.get("spec") or {}).get("resources") or {}).get("requests") or {}).get("storage")


def _claim_grows(obj: Mapping[str, Any], live: Mapping[str, Any]) -> bool:
    """A claim's storage request over the live one: the API server refuses to shrink it back (below its
    ``status.capacity`` once the volume is resized), and a resized disk stays grown. A request that is not
    a quantity, or a live one not known, counts as growth when it differs: writing it last costs nothing."""
    new, old = _storage(obj), _storage(live)
    if new is None or new == old:
        return False
    try:
        return parse_quantity(str(new)) > parse_quantity(str(old))
    except ValueError:
        return True


# one-way changes by (group, kind): accepted forward, refused backward. Changes of immutable fields (a
# Service's clusterIP, a StatefulSet's volumeClaimTemplates, a Job's template, a CRD's scope) need none:
# the preflight's dry-run refuses them before anything is written.
_ONE_WAY: Mapping[tuple[str, str], Callable[[Mapping[str, Any], Mapping[str, Any]], bool]] = {
    ("", "ConfigMap"): _becomes_immutable,
    ("", "Secret"): _becomes_immutable,
    ("", "PersistentVolumeClaim"): _claim_grows,
}


def freezes(obj: Mapping[str, Any], live: Mapping[str, Any] | None) -> bool:
    """Whether applying ``obj`` over the existing ``live`` makes a change the API server refuses to undo in
    place (:data:`_ONE_WAY`): such an object is written after every other one of the revision."""
    one_way = _ONE_WAY.get((key_of(ref_of(obj)).group, str(obj.get("kind"))))
    return live is not None and one_way is not None and one_way(obj, live)


def _immutable(e: KubeError) -> bool:
    return e.status == 422 and "immutable" in str(e).lower()


def _uid(obj: Mapping[str, Any] | None) -> str:
    return str(((obj or {}).get("metadata") or {}).get("uid", ""))


def delete_by_uid(client: KubeClient, ref: ObjectRef, uid: str) -> None:
    """Delete ``ref`` only if it is still the object with ``uid`` (never a namesake created since)."""
    res = client.resource(ref.api_version, ref.kind)
    try:
        client.request("DELETE", res.path(ref.namespace, ref.name), body={
            "kind": "DeleteOptions", "apiVersion": "v1", "preconditions": {"uid": uid},
            "propagationPolicy": "Background"})
    except KubeError as e:
        if e.status not in (404, 409) or isinstance(e, KubeUnavailable):
            raise


def release(client: KubeClient, ref: ObjectRef, uid: str, finalizers: Collection[str]) -> None:
    """Take ``finalizers`` (those its own manifest set) off ``ref`` when a delete left it Terminating as the
    object with ``uid``: no controller of the source's waits on them, and while they stay the object is
    still in force (an admission policy keeps judging writes)."""
    live = client.get(ref.api_version, ref.kind, ref.name, ref.namespace)
    meta = (live or {}).get("metadata") or {}
    held = [str(f) for f in meta.get("finalizers") or ()]
    if _uid(live) != uid or not meta.get("deletionTimestamp") or not set(held) & set(finalizers):
        return
    client.patch(ref, {"metadata": {"finalizers": [f for f in held if f not in finalizers],
                                    "resourceVersion": meta.get("resourceVersion")}},
                 content_type="application/merge-patch+json")


def _wait_gone(client: KubeClient, ref: ObjectRef, uid: str) -> None:
    deadline = time.monotonic() + _GONE_WAIT_SECONDS
    while _uid(client.get(ref.api_version, ref.kind, ref.name, ref.namespace)) == uid:
        if time.monotonic() > deadline:
            raise KubeError(f"{ref} still being deleted after {_GONE_WAIT_SECONDS:.0f}s")
        time.sleep(0.2)


def _fresh(snapshot: Mapping[str, Any], ref: ObjectRef) -> dict[str, Any]:
    body = copy.deepcopy(dict(snapshot))
    body["apiVersion"], body["kind"] = ref.api_version, ref.kind
    body.pop("status", None)
    return body


def _replace(client: KubeClient, ref: ObjectRef, snapshot: Mapping[str, Any]) -> None:
    """Put ``snapshot`` back as the whole object over the current resourceVersion, then its managedFields
    (so field ownership is as it was too)."""
    current = client.get(ref.api_version, ref.kind, ref.name, ref.namespace)
    if current is None:
        raise KubeError(f"{ref} is gone")
    body = _fresh(snapshot, ref)
    body["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
    client.replace(body)
    # the update took the fields it changed for its own manager; a patch of managedFields alone puts the
    # pre-pass owners back (the API server takes a request's managedFields as given)
    managed = (snapshot.get("metadata") or {}).get("managedFields")
    if managed:
        client.patch(ref, [{"op": "replace", "path": "/metadata/managedFields", "value": managed}])


def _recreate(client: KubeClient, ref: ObjectRef, manifest: Mapping[str, Any] | None,
              snapshot: Mapping[str, Any]) -> None:
    current = client.get(ref.api_version, ref.kind, ref.name, ref.namespace)
    if current is not None:
        delete_by_uid(client, ref, _uid(current))
        _wait_gone(client, ref, _uid(current))
    if manifest is not None:
        apply_one(client, manifest, None)
        return
    body = _fresh(snapshot, ref)
    for key in _SERVER_METADATA:
        body["metadata"].pop(key, None)
    client.create(body)


def restore(client: KubeClient, updated: Updated, manifest: Mapping[str, Any] | None,
            source: str) -> Problem | None:
    """Put back one object the pass changed: ``manifest`` is what the previous revision rendered for it
    (None: the pass adopted it, so its snapshot is put back). None when done."""
    ref, snapshot = updated.ref, updated.snapshot
    if manifest is None and not snapshot:
        return Problem(ref, "its content before the pass could not be read")
    try:
        if manifest is not None:
            apply_one(client, manifest, None)
        else:
            _replace(client, ref, snapshot)
        return None
    except KubeUnavailable:
        raise
    except KubeError as e:
        if not _immutable(e):
            return Problem(ref, str(e))
        if manifest is None and not owned_by(snapshot, source):
            return Problem(ref, f"{e}; not this source's object, so not re-created")
    try:
        _recreate(client, ref, manifest, snapshot)
    except KubeUnavailable:
        raise
    except KubeError as e:
        return Problem(ref, f"re-creating it: {e}")
    return None


def recreate(client: KubeClient, ref: ObjectRef, manifest: Mapping[str, Any] | None,
             snapshot: Mapping[str, Any]) -> Problem | None:
    """Create again an object the pass deleted: from ``manifest`` (what the previous revision rendered for
    it) when known, else from ``snapshot`` (its content before the deletion). None when done."""
    try:
        _recreate(client, ref, manifest, snapshot)
    except KubeUnavailable:
        raise
    except KubeError as e:
        return Problem(ref, f"re-creating it: {e}")
    return None


def remove(client: KubeClient, created: Applied) -> Problem | None:
    """Delete an object the pass created, by its uid. None when done (or already gone); a problem when
    finalizers keep it Terminating: the rejected revision's content stays live until they are removed, so
    the inventory must keep listing it (to be pruned later) and the status must say so."""
    ref, uid = created.ref, _uid(created.result)
    if not uid:
        return Problem(ref, "its uid is not known, so it is not deleted")
    try:
        delete_by_uid(client, ref, uid)
        return _held(ref, uid, client.get(ref.api_version, ref.kind, ref.name, ref.namespace))
    except KubeUnavailable:
        raise
    except KubeError as e:
        return Problem(ref, str(e))


# finalizers the API server itself finishes: it deletes a CRD's custom resources, then the CRD
_SELF_FINISHING = frozenset({"customresourcecleanup.apiextensions.k8s.io"})


def _held(ref: ObjectRef, uid: str, live: Mapping[str, Any] | None) -> Problem | None:
    """A problem when ``live`` is still the deleted object, kept by finalizers (a pod's grace period
    without finalizers ends by itself, so it is not one, nor are :data:`_SELF_FINISHING` finalizers)."""
    meta = (live or {}).get("metadata") or {}
    finalizers = [str(f) for f in meta.get("finalizers") or () if str(f) not in _SELF_FINISHING]
    if _uid(live) != uid or not meta.get("deletionTimestamp") or not finalizers:
        return None
    return Problem(ref, f"deleted but still Terminating, held by finalizers {', '.join(finalizers)}")


def restore_crd(client: KubeClient, crd: Mapping[str, Any]) -> Problem | None:
    """A changed CRD gets its pre-pass spec, labels and annotations back, still serving (not storing) each
    version the pass added that ``status.storedVersions`` now lists: the API server refuses a spec without
    them, as objects may be stored at them. :func:`finish_crd` drops them once the objects are restored."""
    try:
        live = client.get(str(crd["apiVersion"]), str(crd["kind"]), _name(crd))
    except KubeUnavailable:
        raise
    except KubeError as e:
        return Problem(_crd_ref(crd), str(e))
    return _apply_crd(client, crd, _stored_since(crd, live))


def finish_crd(client: KubeClient, crd: Mapping[str, Any]) -> Problem | None:
    """After every object was put back (so none is stored at a version the pass added): a CRD that
    :func:`restore_crd` left serving such versions gets its pre-pass ``status.storedVersions`` and then
    exactly its pre-pass spec."""
    stored = list((crd.get("status") or {}).get("storedVersions") or ())
    try:
        extra = _stored_since(crd, client.get(str(crd["apiVersion"]), str(crd["kind"]), _name(crd)))
        if not extra:
            return None
        if not stored:
            return Problem(_crd_ref(crd), "its status.storedVersions before the pass is not known, so "
                           f"{', '.join(str(v.get('name')) for v in extra)} stay served")
        res = client.resource(str(crd["apiVersion"]), str(crd["kind"]))
        client.request("PATCH", res.path("", _name(crd)) + "/status",
                       body={"status": {"storedVersions": stored}},
                       content_type="application/merge-patch+json")
    except KubeUnavailable:
        raise
    except KubeError as e:
        return Problem(_crd_ref(crd), f"putting back status.storedVersions {stored}: {e}")
    return _apply_crd(client, crd, [])


def _name(crd: Mapping[str, Any]) -> str:
    return str((crd.get("metadata") or {}).get("name", ""))


def _crd_ref(crd: Mapping[str, Any]) -> ObjectRef:
    return ObjectRef(str(crd["apiVersion"]), str(crd["kind"]), _name(crd))


def _stored_since(crd: Mapping[str, Any], live: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """The live CRD's versions that its ``status.storedVersions`` lists and the pre-pass spec does not,
    as served non-storage versions."""
    before = {str(v.get("name")) for v in (crd.get("spec") or {}).get("versions") or ()}
    stored = set(((live or {}).get("status") or {}).get("storedVersions") or ())
    return [{**v, "served": True, "storage": False}
            for v in ((live or {}).get("spec") or {}).get("versions") or ()
            if v.get("name") in stored and v.get("name") not in before]


def _apply_crd(client: KubeClient, crd: Mapping[str, Any], extra: list[dict[str, Any]]) -> Problem | None:
    meta = crd.get("metadata") or {}
    spec = dict(crd.get("spec") or {})
    if extra:
        spec["versions"] = [*(spec.get("versions") or ()), *extra]
    try:
        client.apply({"apiVersion": crd["apiVersion"], "kind": crd["kind"],
                      "metadata": {k: meta[k] for k in ("name", "labels", "annotations") if k in meta},
                      "spec": spec})
    except KubeUnavailable:
        raise
    except KubeError as e:
        return Problem(_crd_ref(crd), str(e))
    return None
