"""Source objects, live: the watch on Sources and Secrets turned into the reconciler's set of sources.

The watch threads only queue work; it runs on the loop's thread between passes (``Reconciler.hand``), so
a source never changes under a running pass. A Source object becomes the same :class:`config.Source` a
config file gives (``sourcecrd.parse``) under the name ``NAMESPACE/NAME``, with its namespace's grant
(``tenancy``) and its Secrets written to files for git. Deleting one prunes its objects when its spec says
so (the ``handoff.dev/prune`` finalizer holds the object until they are gone), otherwise orphans them: the
owner label is removed and the inventory dropped. What the spec says at deletion decides (``prune: false``
or ``suspend: true`` orphans), and both act as the Source's own identity (its ``serviceAccountName``,
impersonated), whether or not this process ever served it. A Source object is its uid: one re-created
under the same name (a GET confirms it) is a new Source (the old one ended first), and status is written
only to the uid and resourceVersion it was computed from. One object's failure stalls that object, never
the loop. Only the leader writes."""

from __future__ import annotations

import base64
import datetime
import logging
import re
import shutil
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from handoff.errors import ConfigError, HandoffError
from handoff.kube.client import KubeClient, KubeError
from handoff.manifests.sensitive import secret_strings
from handoff.reconciler import inventory, prune, sourcestatus, status
from handoff.reconciler.adoption import orphaned_mark
from handoff.reconciler.authority import (
    covers,
    denied,
    grant_of,
    service_account_groups,
    service_account_user,
)
from handoff.reconciler.config import Authority, PruneSettings, Source
from handoff.reconciler.events import EventRecorder, Involved, pass_events
from handoff.reconciler.guard import own_objects
from handoff.reconciler.loop import Reconciler
from handoff.reconciler.masking import masked_text
from handoff.reconciler.migrate import MIGRATED_FROM, takes_over
from handoff.reconciler.objects import OWNER_LABEL, owned_by
from handoff.reconciler.served import live_object
from handoff.reconciler.sourcecrd import (
    API_VERSION,
    KIND,
    PRUNE_FINALIZER,
    REQUESTED_AT,
    SecretFiles,
    SourceObject,
    parse,
    parse_ending,
    source_name,
)
from handoff.reconciler.tenancy import Tenant, authority_for, default_service_account
from handoff.reconciler.watch import ListWatch
from handoff.report.model import ObjectRef

log = logging.getLogger("handoff.reconciler")
_SECRET_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
_TEXT_KEYS = ("username", "token", "password")  # git reads these as text: they must be UTF-8


def _meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return obj.get("metadata") or {}


def _named_only(obj: Mapping[str, Any]) -> dict[str, Any]:
    meta = _meta(obj)
    return {"metadata": {"namespace": meta.get("namespace"), "name": meta.get("name")}}


def _name_of(obj: Mapping[str, Any]) -> str:
    meta = _meta(obj)
    return source_name(str(meta.get("namespace") or ""), str(meta.get("name") or ""))


_ENDED_KEPT = 4096  # ended uids remembered: far more than the events a watch can still deliver late
_STATUS_TRIES = 3  # status writes redone on the stored status when another write came between
StatusUpdate = Callable[[Mapping[str, Any]], Mapping[str, Any]]  # from a status, what to change in it


class SourceObjects:
    """Keeps ``reconciler`` serving exactly the Source objects in the cluster (``namespace``: only those
    in one namespace, for a namespaced install)."""

    def __init__(self, reconciler: Reconciler, *, tenants: Sequence[Tenant] = (),
                 namespace: str = "", allow_private_hosts: bool = False,
                 hand_over_migrated: bool = False) -> None:
        self.reconciler = reconciler
        self.allow_private_hosts = allow_private_hosts  # Source URLs may name loopback/link-local hosts
        # the operator's opt-in for the upgrade: without it, whoever may create Sources in a namespace could
        # take an operator's config-file source (its authority, its verification) out of service
        self.hand_over_migrated = hand_over_migrated
        self.client: KubeClient = reconciler.client
        self.tenants = tuple(tenants)
        self.objects: dict[str, SourceObject] = {}  # by NAMESPACE/NAME, every Source object served
        # a Stalled object's last served version: its deletion, even one a relist reports by name only,
        # ends its objects as that spec said
        self.stalled: dict[str, SourceObject] = {}
        # the uid and generation of the newest version of each object handled: an older one delivered
        # late (the Sources watch's queued event after secret_changed's GET) is not served again
        self.newest: dict[str, tuple[str, int]] = {}
        # uids of Source objects that ended (deleted, or replaced by a same-name successor): a late event
        # of one must never touch its successor, whose objects carry the same owner label (bounded)
        self.ended: dict[str, None] = {}
        # the Secrets each unusable object names: one appearing makes it worth parsing again
        self.waiting: dict[str, tuple[str, frozenset[str]]] = {}
        # Source objects mirroring the config-file source they were migrated from, by NAMESPACE/NAME: its
        # name; and the config-file sources not served for that reason
        self.migrated: dict[str, str] = {}
        self.taken_over: set[str] = set()
        self.secrets_dir = reconciler.workdir / ".secrets"
        # by NAMESPACE/NAME, while a deleted Source's finalizer is kept: its Secrets' values (``_finalize``)
        self.deleting_secrets: dict[str, dict[str, str]] = {}
        self.sources_watch = ListWatch(self.client, API_VERSION, KIND, namespace=namespace,
                                       on_change=lambda o: self._queue_then_settle(self.changed, o),
                                       on_delete=lambda o: self._queue_then_settle(self.deleted, o))
        # names only: a Secret's data is read (GET) only when a Source names it, so memory is bounded by
        # what Sources reference, not by every Secret in the cluster (helm releases: ~1 MiB each)
        # (and only the name is queued: a kubectl-applied Secret's metadata holds its data in an annotation)
        self.secrets_watch = ListWatch(self.client, "v1", "Secret", namespace=namespace, metadata_only=True,
                                       on_change=lambda o: self._queue_then_settle(self.secret_changed,
                                                                                   _named_only(o)),
                                       on_delete=lambda o: self._queue_then_settle(self.secret_changed,
                                                                                   _named_only(o)))
        # a status write that lost every try to other writers, by NAMESPACE/NAME: (uid, update), tried
        # again on the object's next event
        self.pending_status: dict[str, tuple[str, StatusUpdate]] = {}
        # deleting objects whose finalizer runs at the end of the drain (``_deleting``), by uid: the newest
        # version seen of each
        self.finalizing: dict[str, Mapping[str, Any]] = {}
        self.events = EventRecorder(self.client)  # Events on the Source objects, counted when repeated
        reconciler.after_pass.append(self.publish)
        reconciler.on_leading.append(self.became_leader)

    def _queue(self, handler: Any, obj: dict[str, Any]) -> None:
        self.reconciler.hand(lambda: self._guarded(handler, obj))

    def _guarded(self, handler: Any, obj: Mapping[str, Any]) -> None:
        """Run one event's ``handler``: what it raises is logged, never ends the loop serving every other
        Source (``changed`` itself stalls the Source it is about)."""
        try:
            handler(obj)
        except Exception as e:  # one object's failure must not end every tenant's service
            log.warning("cannot handle a change", exc_info=not isinstance(e, HandoffError),
                        extra={"object": f"{obj.get('kind')} {_name_of(obj)}", "error": str(e)})

    def _stall(self, obj: Mapping[str, Any], e: Exception) -> None:
        """``obj`` cannot be served: stop serving it and say why in its status (Stalled, one line); a
        change of it or of a Secret it names tries again."""
        name, meta = _name_of(obj), _meta(obj)
        served = self.objects.pop(name, None)
        if served is not None:
            self.stalled[name] = served
            # a revoked (deleted) or unusable Secret's files must not stay on disk; a retry writes them again
            self._drop_unused_secrets(served)
        spec = obj.get("spec") or {}
        refs = (spec.get("secretRef"), (spec.get("verify") or {}).get("secretRef")) \
            if isinstance(spec, Mapping) else ()
        self.waiting[name] = (str(meta.get("namespace")), frozenset(
            str(r.get("name")) for r in refs if isinstance(r, Mapping)))
        if isinstance(e, ConfigError):
            foreign = "secretRef" in str(e.key) and "refused" in e.message
            missing = "secretRef" in str(e.key) and "not found" in e.message
            url = str(e.key) == "spec.url"
            reason = "SecretRefDenied" if foreign else "SecretNotFound" if missing else \
                "URLRefused" if url else "InvalidSpec"
            message = str(e)
        elif isinstance(e, KubeError):
            reason, message = "APIRequestFailed", f"cannot read what the Source needs: {e}"
        elif isinstance(e, HandoffError):
            reason, message = "InvalidSpec", str(e)
        else:
            log.error("unexpected error handling a Source", exc_info=e, extra={"source": name})
            reason, message = "InternalError", f"unexpected error: {type(e).__name__}: {e}"
        last = served or self.stalled.get(name)
        # what it applied stays its own while it cannot be served (also what a process before this one
        # applied for it): no rival adopts or prunes it; but one that took a config-file source over hands
        # it back, objects included (_settle_takeovers)
        held = last.source if last is not None and last.uid == str(meta.get("uid") or "") \
            else self._ending_source(obj)
        if held is not None and name not in self.migrated:
            self.reconciler.hold(held, f"its Source object is Stalled: {reason}")
        else:
            self.reconciler.drop_source(name)
        generation = int(meta.get("generation") or 0)
        stalled = {"observedGeneration": generation,
                   "conditions": sourcestatus.stalled(reason, message, generation)}
        self._write_status(obj, lambda _: stalled)

    def start(self, stop: threading.Event) -> None:
        for w, name in ((self.sources_watch, "watch-sources"), (self.secrets_watch, "watch-secrets")):
            threading.Thread(target=w.run, args=(stop,), name=name, daemon=True).start()

    # ---- events (on the loop's thread) -----------------------------------------------------------
    def changed(self, obj: Mapping[str, Any], *, credentials_changed: bool = False) -> None:
        """Serve Source object ``obj`` as it is now. Never raises: an object that cannot be served (a bad
        spec, an unreadable Secret, an API server error reading one) is Stalled, and only it."""
        try:
            self._changed(obj, credentials_changed=credentials_changed)
        except Exception as e:  # one Source's failure must not end every tenant's service
            self._stall(obj, e)

    def _changed(self, obj: Mapping[str, Any], *, credentials_changed: bool) -> None:
        name = _name_of(obj)
        meta = _meta(obj)
        uid = str(meta.get("uid") or "")
        if uid in self.ended:
            return  # a late event of an object already ended (its successor may be served)
        if meta.get("deletionTimestamp"):
            self._deleting(obj)
            return
        previous = self.objects.get(name)
        known = [k for k in (previous, self.stalled.get(name)) if k is not None and k.uid]
        # every uid handled for the name: served, Stalled after serving, or Stalled before ever serving
        handled = {k.uid for k in known} | ({self.newest.get(name, ("", 0))[0]} - {""})
        if uid and handled - {uid}:
            current = self._current(obj)
            if current is None:
                return  # not confirmed: what is served stays, a later event tries again
            current_uid = str(_meta(current).get("uid") or "")
            if current_uid != uid:
                self._remember_ended(uid)  # the event's object is gone: a late event of it
                if current_uid in handled:
                    return  # of an object older than the one handled, never seen or forgotten since
            # what was handled was deleted (the name perhaps taken again) while nobody watched: it ends as
            # its own spec said, then whatever holds the name now is a new Source
            for k in known:
                if k.uid != current_uid:
                    self._gone(k)
            if current_uid != uid:
                self.newest.pop(name, None)
                self.waiting.pop(name, None)
                if current_uid:  # served (or Stalled) as itself, not under the event's spec
                    self.changed(current, credentials_changed=credentials_changed)
                return
            # the GET's version is the one handled: the event's may predate its deletion or an edit
            obj, meta = current, _meta(current)
            if meta.get("deletionTimestamp"):
                self._deleting(obj)
                return
            previous = self.objects.get(name)
        generation = int(meta.get("generation") or 0)
        newest_uid, newest_generation = self.newest.get(name, ("", 0))
        if uid and newest_uid == uid and generation < newest_generation:
            return  # an older version delivered after a newer one: the newer one is what is served
        self.newest[name] = (uid, generation)
        if previous is not None and not credentials_changed and _same_but_status(previous, obj):
            # our own status write coming back: nothing to parse, no Secret to read again (an annotation
            # edit bumps no generation either: whether the object takes a config-file source over is read)
            kept = self.objects[name] = replace(previous, status=dict(obj.get("status") or {}),
                                                resource_version=str(meta.get("resourceVersion") or ""))
            # a finalizer patch that conflicted, or was not made while standby, is tried again on this event
            self._keep_finalizer(kept)
            self._write_pending(self.objects[name])
            self._note_migrated(name, _migrated_from(meta), previous)
            return
        found = self._parse(obj, secrets=self._secret_files(obj))
        if previous is not None and previous.uid == found.uid:
            found = replace(found, observed_generation=previous.observed_generation)
        if previous is None or previous.uid != found.uid or not _same_settings(previous, found,
                                                                               credentials_changed):
            self.pending_status.pop(name, None)  # computed for a version this one replaces
        elif (published := self._write_pending(replace(previous, status=dict(obj.get("status") or {}),
                                                       resource_version=str(meta.get("resourceVersion")
                                                                            or "")))) is not None:
            # an edit to the same settings makes no pass: the last pass's lost result still holds, so it
            # is written now (and this version is then observed as caught up)
            previous = published
            found = replace(found, status=published.status, resource_version=published.resource_version,
                            observed_generation=published.observed_generation)
        self.waiting.pop(name, None)
        self.stalled.pop(name, None)
        self.objects[name] = found
        self._keep_finalizer(found)
        took_over = name in self.migrated  # it hands that config-file source back, objects included
        self._note_migrated(name, _migrated_from(meta), found)
        if found.suspend:  # its objects are kept: still its own, not adoptable nor prunable by another
            if took_over:
                self.reconciler.drop_source(name)
            else:
                self.reconciler.hold(found.source, "it is suspended")
            return
        self.reconciler.set_source(found.source, credentials_changed=credentials_changed)
        kept = self.objects[name]  # its resourceVersion moved if the finalizer was put on or taken off
        observe = _observation(found, previous, credentials_changed=credentials_changed)
        written = self._write_status(obj, observe, kept.status, kept.resource_version)
        if written is not None:
            observed = found.generation if written[0].get("observedGeneration") == found.generation \
                else kept.observed_generation
            kept = self.objects[name] = replace(kept, status=written[0], resource_version=written[1],
                                                observed_generation=observed)
        if found.requested_at and found.requested_at != kept.status.get("lastHandledRequestedAt"):
            self.reconciler.request_sync(name)

    def became_leader(self) -> None:
        """This replica leads now: the Sources it handled as standby (no write made for them) get the
        finalizer their spec wants without waiting for an event."""
        for found in list(self.objects.values()):
            self._keep_finalizer(found)

    def _deleting(self, obj: Mapping[str, Any]) -> None:
        """Source object ``obj`` is being deleted: it is served no more (a pass would re-create what its
        prune deleted and replace the status saying why its deletion is blocked), its served version kept
        for its end; the leader finalizes it when it carries the finalizer."""
        name, meta = _name_of(obj), _meta(obj)
        served = self.objects.get(name)
        if served is not None and served.uid in ("", str(meta.get("uid") or "")):
            del self.objects[name]
            self.stalled[name] = served  # its end, even one a relist reports by name only, is as it said
            self.reconciler.drop_source(name)
        uid = str(meta.get("uid") or "")
        if PRUNE_FINALIZER in (meta.get("finalizers") or ()) and self.reconciler.can_write():
            # last in the drain: the changes queued with this one (a relist's other objects, a rename's new
            # name, the config-file source a migrated object hands back) make their sources known first,
            # so what they declare now is never pruned
            if uid not in self.finalizing:
                self.reconciler.hand_last(lambda: self._guarded(self._finalize_latest, {"metadata": meta}))
            self.finalizing[uid] = obj

    def _finalize_latest(self, queued: Mapping[str, Any]) -> None:
        """Finalize the newest version seen of the deleting object ``queued`` names, unless it ended."""
        uid = str(_meta(queued).get("uid") or "")
        obj = self.finalizing.pop(uid, None)
        if obj is not None and uid not in self.ended:
            self._finalize(obj)

    def deleted(self, obj: Mapping[str, Any]) -> None:
        name = _name_of(obj)
        uid = str(_meta(obj).get("uid") or "")
        known = self.objects.get(name)
        if known is None and not obj.get("spec"):
            known = self.stalled.get(name)  # served once, then Stalled: what it last served decides
        if known is not None and (not obj.get("spec") or known.uid == uid):
            # a relist reports a vanished object by name only: what it last said decides its end
            self._gone(known)
            return
        if uid in self.ended or (known is not None and known.uid and uid and known.uid != uid):
            return  # ended already, or a same-name successor is served: orphaning would release its objects
        if known is None:  # else the one deleted is not the one served (a same-name successor is)
            if self.newest.get(name, (uid, 0))[0] == uid:  # else they are a Stalled successor's
                self.waiting.pop(name, None)
                self.newest.pop(name, None)
            if (stalled := self.stalled.get(name)) is not None and stalled.uid == uid:
                del self.stalled[name]
            self.reconciler.drop_source(name)
        if not obj.get("spec"):
            log.warning("cannot orphan a deleted Source's objects: its spec was never served",
                        extra={"source": name})
            return
        try:
            self._end(self._parse_ending(obj))
        except ConfigError as e:
            log.warning("cannot orphan a deleted Source's objects", extra={"source": name, "error": str(e)})

    def _current(self, obj: Mapping[str, Any]) -> Mapping[str, Any] | None:
        """What holds ``obj``'s name now (one GET; empty when nothing does), to tell a re-creation of what
        is served from a late event of an older object: the ended-uid memory cannot (it is bounded, and
        holds only uids this process handled). None when the API server cannot say."""
        meta = _meta(obj)
        try:
            return self.client.get(API_VERSION, KIND, str(meta.get("name")), str(meta.get("namespace"))) or {}
        except KubeError as e:
            log.warning("cannot tell a re-created Source from a late event; the served one stays",
                        extra={"source": _name_of(obj), "error": str(e)})
            return None

    def _remember_ended(self, uid: str) -> None:
        if uid:
            self.ended[uid] = None
            while len(self.ended) > _ENDED_KEPT:
                del self.ended[next(iter(self.ended))]

    def _gone(self, known: SourceObject) -> None:
        """Source object ``known`` no longer exists: end it as the spec it was served by says, stop
        serving it and drop all state kept for it (a new object of its name starts afresh)."""
        self._remember_ended(known.uid)
        self.pending_status.pop(known.key, None)
        self.objects.pop(known.key, None)
        self.stalled.pop(known.key, None)
        self.newest.pop(known.key, None)
        self.waiting.pop(known.key, None)
        self.reconciler.drop_source(known.key)
        self._end(known)
        self._drop_unused_secrets(known)

    def _end(self, gone: SourceObject) -> None:
        """Orphan deleted Source ``gone`` now, as its own identity (best effort), and delete its inventory
        and status ConfigMaps. One whose finalizer finished here never gets here (its uid ended then);
        whatever finalizers its cached or deleted version lists, any other went without them finishing:
        none was on yet, its patch did not land, or a user removed it by hand from a blocked deletion."""
        if self.reconciler.can_write():
            self.orphan(gone)

    def _note_migrated(self, name: str, migrated_from: str, found: SourceObject) -> None:
        """Source object ``name`` takes over config-file source ``migrated_from`` while it mirrors it
        (``migrate.takes_over``) and is served (see :meth:`_settle_takeovers`)."""
        config = {s.name: s for s in self.reconciler.settings.sources}
        wanted = config.get(migrated_from)
        if self.hand_over_migrated and wanted is not None and not found.suspend \
                and takes_over(wanted, found.source):
            self.migrated[name] = wanted.name
        else:
            self.migrated.pop(name, None)

    def _queue_then_settle(self, handler: Any, obj: dict[str, Any]) -> None:
        self._queue(handler, obj)
        self.reconciler.hand(self._settle_takeovers)  # whatever the event changed

    def _settle_takeovers(self) -> None:
        """Serve no config-file source a served Source object takes over, so the two are not rivals for
        the same objects (``Conflict`` on every pass) between the upgrade's steps 3 and 4; serve it again
        once none does (the object deleted, suspended, edited away from it or unusable)."""
        taken = {config for name, config in self.migrated.items() if name in self.objects}
        for source in self.reconciler.settings.sources:
            if source.name in taken and source.name not in self.taken_over:
                self.reconciler.drop_source(source.name)
            elif source.name not in taken and source.name in self.taken_over:
                self.reconciler.set_source(source)
        self.taken_over = taken

    def _drop_unused_secrets(self, gone: SourceObject) -> None:
        """The files of the Secrets ``gone`` named, unless another Source object still names them."""
        for secret in {gone.secret, gone.verify_secret} - {None}:
            if not any(o.namespace == gone.namespace and secret in (o.secret, o.verify_secret)
                       for o in self.objects.values()):
                shutil.rmtree(self.secrets_dir / gone.namespace / str(secret), ignore_errors=True)

    def secret_changed(self, secret: Mapping[str, Any]) -> None:
        meta = _meta(secret)
        namespace, secret_name = str(meta.get("namespace") or ""), str(meta.get("name") or "")
        users = [(o.namespace, o.name) for o in self.objects.values()
                 if o.namespace == namespace and secret_name in (o.secret, o.verify_secret)]
        users += [(ns, source.rpartition("/")[2]) for source, (ns, names) in self.waiting.items()
                  if ns == namespace and secret_name in names]
        for ns, name in users:
            current = self.client.get(API_VERSION, KIND, name, ns)
            if current is not None:
                self.changed(current, credentials_changed=True)

    def hand_over(self, name: str) -> bool:
        """Ask the leader to sync Source object ``name`` (``NAMESPACE/NAME``): set its sync-now
        annotation, which the leader's watch turns into a pass. For a standby replica's webhook; safe to
        call from another thread. False when ``name`` is no Source object or the write fails."""
        found = self.objects.get(name)
        if found is None:
            return False
        stamp = datetime.datetime.now(tz=datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        try:
            self.client.patch(ObjectRef(API_VERSION, KIND, found.name, found.namespace),
                              {"metadata": {"annotations": {REQUESTED_AT: stamp}}},
                              content_type="application/merge-patch+json")
        except KubeError as e:
            log.warning("cannot hand a sync request to the leader", extra={"source": name, "error": str(e)})
            return False
        return True

    # ---- status ----------------------------------------------------------------------------------
    def publish(self, source: Source, result: status.PassResult) -> None:
        found = self.objects.get(source.name)
        if found is None:
            return  # a config-file source: its status ConfigMap is all it has
        new = sourcestatus.status_of(found, result)
        written = self._write_status({"metadata": {"namespace": found.namespace, "name": found.name,
                                                   "uid": found.uid}},
                                     lambda _: new, found.status, found.resource_version)
        if written is not None:
            self.objects[source.name] = replace(found, status=written[0], resource_version=written[1],
                                                observed_generation=found.generation)
        if self.reconciler.can_write():
            about = Involved(ObjectRef(API_VERSION, KIND, found.name, found.namespace), found.uid)
            for e in pass_events(result):
                self.events.record(about, e.reason, e.message, warning=e.warning)

    def _write_pending(self, known: SourceObject) -> SourceObject | None:
        """Try again the status write of ``known`` that lost every try, on its version now; ``known`` as
        served once it is written (the pass's observedGeneration observed), else None."""
        uid, update = self.pending_status.get(known.key, ("", None))
        if update is None or uid != known.uid:
            return None
        written = self._write_status({"metadata": {"namespace": known.namespace, "name": known.name,
                                                   "uid": known.uid}},
                                     update, known.status, known.resource_version)
        if written is None:
            return None
        observed = int(written[0].get("observedGeneration") or known.observed_generation)
        published = self.objects[known.key] = replace(known, status=written[0], resource_version=written[1],
                                                      observed_generation=observed)
        return published

    def _write_status(self, obj: Mapping[str, Any], update: StatusUpdate,
                      base: Mapping[str, Any] | None = None,
                      version: str | None = None) -> tuple[dict[str, Any], str] | None:
        """Merge ``update(status)`` onto Source ``obj``'s status and write it when that changes it, from
        ``base`` read at resourceVersion ``version`` (default: ``obj``'s own). The write lands only on
        that resourceVersion (and uid): one based on an older status than the stored one (an edit's event
        queued during a pass, handled after the pass wrote) is redone on the stored status instead of
        rolling it back. The status and resourceVersion now stored; None if not written."""
        if not self.reconciler.can_write():
            return None
        meta = _meta(obj)
        namespace, name, uid = str(meta.get("namespace")), str(meta.get("name")), str(meta.get("uid") or "")
        source = source_name(namespace, name)
        current = dict(base if base is not None else obj.get("status") or {})
        version = str(meta.get("resourceVersion") or "") if version is None else version
        for _ in range(_STATUS_TRIES):
            merged = sourcestatus.merged(current, {**current, **update(current)})
            if merged == current:
                self.pending_status.pop(source, None)
                return merged, version
            try:
                written = sourcestatus.patch(self.client, namespace, name, uid, merged,
                                             resource_version=version)
                self.pending_status.pop(source, None)
                return merged, written
            except KubeError as e:
                if e.status not in (409, 422) or not version:
                    log.warning("cannot write Source status", extra={"source": source, "error": str(e)})
                    return None
            try:  # a precondition failed: read what is stored now
                stored = self.client.get(API_VERSION, KIND, name, namespace) or {}
            except KubeError as e:
                log.warning("cannot write Source status", extra={"source": source, "error": str(e)})
                return None
            if str(_meta(stored).get("uid") or "") != uid:
                return None  # deleted, or re-created: this status is not the new object's
            current = dict(stored.get("status") or {})
            version = str(_meta(stored).get("resourceVersion") or "")
        log.warning("cannot write Source status: it changed on every try; the next event tries again",
                    extra={"source": source})
        self.pending_status[source] = (uid, update)
        return None

    def _parse(self, obj: Mapping[str, Any], *, secrets: Mapping[str, SecretFiles] | None = None
               ) -> SourceObject:
        return parse(obj, authority=self._grant(obj), secrets=secrets,
                     allow_private_hosts=self.allow_private_hosts,
                     default_service_account=self._default_account(obj))

    def _parse_ending(self, obj: Mapping[str, Any]) -> SourceObject:
        """Deleted ``obj`` as far as ending it needs (``sourcecrd.parse_ending``)."""
        return parse_ending(obj, authority=self._grant(obj),
                            default_service_account=self._default_account(obj))

    def _default_account(self, obj: Mapping[str, Any]) -> str | None:
        return default_service_account(str(_meta(obj).get("namespace")), self.tenants)

    def _ending_source(self, obj: Mapping[str, Any]) -> Source | None:
        """``obj`` as far as its name, grant and identity go (``_parse_ending``), or None."""
        try:
            return self._parse_ending(obj).source
        except ConfigError:
            return None

    def _grant(self, obj: Mapping[str, Any]) -> Authority:
        namespace = str(_meta(obj).get("namespace"))
        return authority_for(namespace, self.tenants, self.reconciler.settings.namespace)

    # ---- finalizer, prune and orphan -------------------------------------------------------------
    def _keep_finalizer(self, found: SourceObject) -> None:
        """``handoff.dev/prune`` is on the object exactly when deleting it prunes: its spec prunes and it
        is not suspended (a suspended Source's objects are the operator's to take over)."""
        has, wants = PRUNE_FINALIZER in found.finalizers, _prunes(found)
        if has == wants or not self.reconciler.can_write():
            return
        finalizers = [f for f in found.finalizers if f != PRUNE_FINALIZER]
        if wants:
            finalizers.append(PRUNE_FINALIZER)
        version = self._set_finalizers(found.namespace, found.name, finalizers, found.resource_version)
        if version is not None:  # else the object keeps what it had (or is gone): the cache says so too
            self.objects[found.key] = replace(found, finalizers=tuple(finalizers), resource_version=version)

    def _set_finalizers(self, namespace: str, name: str, finalizers: list[str], version: str) -> str | None:
        """The object's resourceVersion once its finalizers are ``finalizers``; None if the patch failed."""
        body = {"metadata": {"finalizers": finalizers, "resourceVersion": version}}
        try:
            patched = self.client.patch(ObjectRef(API_VERSION, KIND, name, namespace), body,
                                        content_type="application/merge-patch+json")
        except KubeError as e:  # a conflict: the next event for the object tries again
            log.warning("cannot update finalizers", extra={"source": source_name(namespace, name),
                                                           "error": str(e)})
            return None
        return str(_meta(patched).get("resourceVersion") or "")

    def _finalize(self, obj: Mapping[str, Any]) -> None:
        """A deleting Source with the finalizer: prune its objects, or orphan them when its spec at
        deletion says ``prune: false`` or ``suspend: true``; the finalizer stays (status says why) while
        that cannot be done: an identity RBAC forbids it, a deferred prune, or one of the few fields ending
        reads (``sourcecrd.ENDING_FIELDS``) does not parse; the rest of the spec is not read."""
        meta = _meta(obj)
        name = _name_of(obj)
        namespace = str(meta.get("namespace"))
        generation = int(meta.get("generation") or 0)
        try:
            found = self._parse_ending(obj)
            self._remember_secrets(name, found)  # before its prune deletes them
            if _prunes(found):
                result = self.prune_all(found)
                log.info("pruned a deleted Source's objects",
                         extra={"source": name, "pruned": len(result.deleted)})
                if result.deferred or result.refused:
                    kept = "; ".join(f"{r}: {why}" for r, why in result.kept[:5])
                    raise DeletionBlocked("prune of the deleted Source not finished: "
                                          f"{result.refused or kept}")
            else:
                self.orphan(found, strict=True)
        except HandoffError as e:
            # a kept object's name (from the inventory, so from the revision) may carry a Secret's value
            message = masked_text(str(e), self.deleting_secrets.get(name, {}))
            log.warning("cannot finalize a deleted Source; will retry",
                        extra={"source": name, "error": message})
            blocked = {"conditions": sourcestatus.stalled(
                "DeletionBlocked", f"finalizer {PRUNE_FINALIZER} kept: {message}", generation)}
            self._write_status(obj, lambda _: blocked)
            return
        self.deleting_secrets.pop(name, None)
        self._forget(name)
        self.reconciler.drop_source(name)
        self.objects.pop(name, None)
        self.stalled.pop(name, None)
        self.newest.pop(name, None)
        finalizers = [f for f in meta.get("finalizers") or () if f != PRUNE_FINALIZER]
        if self._set_finalizers(namespace, str(meta.get("name")), finalizers,
                                str(meta.get("resourceVersion", ""))) is not None:
            # done: its late events (its DELETED) must not end it again, nor touch a successor's objects
            self._remember_ended(str(meta.get("uid") or ""))

    def _remember_secrets(self, name: str, found: SourceObject) -> None:
        """Keep the sensitive values of the Secrets the deleted Source's inventory lists (until it ends):
        its DeletionBlocked message names the objects kept, and the retry after a Secret was pruned must
        mask them still."""
        known = self.deleting_secrets.setdefault(name, {})
        try:
            listed = inventory.read(self.client, self.reconciler.settings.namespace, found.key)
            for ref in listed.objects if listed else ():
                if ref.api_version == "v1" and ref.kind == "Secret":
                    live = self.client.get("v1", "Secret", ref.name, ref.namespace)
                    known.update(secret_strings([live], self.reconciler.rules) if live else {})
        except KubeError as e:  # what could be read is kept; the prune reports the API server itself
            log.warning("cannot read a deleted Source's Secrets", extra={"source": name, "error": str(e)})

    def prune_all(self, found: SourceObject) -> prune.PruneResult:
        """Delete every object the inventory lists that still carries the source's owner label, as the
        Source's own identity (never Namespaces or CRDs unless the prune settings allow, nor anything
        outside the grant, nor what another source of this reconciler desires now; what a source not
        known now may have taken over is deferred)."""
        settings, name = self.reconciler.settings, found.key
        listed = inventory.read(self.client, settings.namespace, name)
        if listed is None:
            return prune.PruneResult()
        grant = grant_of(found.source)
        everything = PruneSettings(max_fraction=1.0, min_inventory=0,
                                   allow_namespaces=settings.prune.allow_namespaces,
                                   allow_crds=settings.prune.allow_crds)
        claimed, unknown = self.reconciler.claimed_elsewhere(found.source)
        plan = prune.plan(listed.objects, (), everything, own_objects(listed.objects, settings),
                          claimed=claimed, unknown=unknown, outside_grant=denied(listed.objects, grant))
        return prune.execute(self._identity(found), plan, name, covers(grant))

    def orphan(self, found: SourceObject, *, strict: bool = False) -> list[ObjectRef]:
        """Remove the owner label from every object the inventory lists, as the Source's own identity,
        marking each as released by it (a Source of that name re-created adopts them), then drop the
        inventory. ``strict``: an object that cannot be released (RBAC forbids it) raises,
        and the inventory stays for the next try."""
        settings, name = self.reconciler.settings, found.key
        listed = inventory.read(self.client, settings.namespace, name)
        released: list[ObjectRef] = []
        client = self._identity(found)
        for ref in listed.objects if listed else ():
            try:
                # at a version the API server serves now: the inventory's may be gone since
                found_live = live_object(client, ref)
                if found_live.unsure:
                    raise KubeError(f"it cannot be looked up: {found_live.unsure}")
                if found_live.ref is None or not owned_by(found_live.live, name):
                    continue
                client.patch(found_live.ref, {"metadata": {"labels": {OWNER_LABEL: None},
                                                           "annotations": orphaned_mark(name)}},
                             content_type="application/merge-patch+json")
                released.append(ref)
            except KubeError as e:
                if strict:
                    raise DeletionBlocked(f"cannot release {ref}: {e}") from e
                log.warning("cannot orphan an object", extra={"source": name, "object": str(ref),
                                                              "error": str(e)})
        self._forget(name)
        return released

    def _identity(self, found: SourceObject) -> KubeClient:
        """The client a Source's objects are pruned or released with: impersonating its ServiceAccount
        when it names one (built from its spec, so the same after a restart), else the reconciler's."""
        source = found.source
        if not source.service_account:
            return self.client
        return self.client.impersonating(service_account_user(source), service_account_groups(source))

    def _forget(self, name: str) -> None:
        ns = self.reconciler.settings.namespace
        for cm in (inventory.inventory_name(name), status.status_name(name)):
            try:
                self.client.delete("v1", "ConfigMap", cm, ns)
            except KubeError as e:
                log.warning("cannot delete", extra={"source": name, "object": cm, "error": str(e)})

    # ---- Secrets as files ------------------------------------------------------------------------
    def _secret_files(self, obj: Mapping[str, Any]) -> dict[str, SecretFiles]:
        """Each Secret the object references (in its own namespace only), written one file per key
        under the workdir; a missing one is left out (``parse`` says so)."""
        meta, spec = _meta(obj), obj.get("spec") or {}
        namespace = str(meta.get("namespace") or "")
        refs = [spec.get("secretRef"), (spec.get("verify") or {}).get("secretRef")]
        out: dict[str, SecretFiles] = {}
        for ref in refs:
            own = isinstance(ref, Mapping) and ref.get("namespace") in (None, namespace)
            if not own or not isinstance(ref, Mapping) or not ref.get("name"):
                continue
            secret_name = str(ref["name"])
            secret = self.client.get("v1", "Secret", secret_name, namespace)
            # one directory per Secret, whichever Source objects name it: their credentials are then the
            # same files, so sources of one repository and ref share one fetch (``FetchPool``)
            directory = self.secrets_dir / namespace / secret_name
            if secret is None:  # deleted: a revoked credential stays on no disk, whoever else named it
                shutil.rmtree(directory, ignore_errors=True)
                continue
            out[secret_name] = _write_secret(directory, secret.get("data") or {},
                                             source_name(namespace, secret_name))
        return out


class DeletionBlocked(HandoffError):
    """A deleted Source's objects cannot be pruned or released yet: its finalizer stays."""


def _prunes(found: SourceObject) -> bool:
    """Deleting ``found`` prunes its objects (else it orphans them)."""
    return found.source.prune and not found.suspend


def _observation(found: SourceObject, previous: SourceObject | None, *,
                 credentials_changed: bool) -> StatusUpdate:
    """What serving ``found`` (``previous``: the version served before) changes in its status, decided on
    the status as stored, not as the event carried it (an edit made during a pass carries the status
    before that pass's write). A new generation is Progressing until its pass, unless it parses to the
    same settings (1h as 60m, an empty list): no pass is made due for it, so it is observed now, with the
    conditions the last pass left."""
    if previous is not None and previous.generation == found.generation:
        return lambda _: {}

    def update(current: Mapping[str, Any]) -> Mapping[str, Any]:
        # caught up is decided on what this process observed: the stored observedGeneration is anyone's
        if (previous is not None and not previous.suspend and previous.source == found.source
                and not credentials_changed and previous.observed_generation == previous.generation):
            return sourcestatus.caught_up(current, found.generation)
        seen = int(current.get("observedGeneration") or 0)
        # a stored value beyond any generation that existed before this one was never observed
        before = previous.generation if previous is not None else found.generation
        kept = seen if seen <= before else previous.observed_generation if previous is not None else 0
        if kept != found.generation:
            return {"observedGeneration": kept, "conditions": sourcestatus.progressing(found.generation)}
        return {}
    return update


def _same_settings(previous: SourceObject, found: SourceObject, credentials_changed: bool) -> bool:
    """Serving ``found`` after ``previous`` makes no pass due: the same source, credentials and suspend."""
    return previous.source == found.source and previous.suspend == found.suspend and not credentials_changed


def _migrated_from(meta: Mapping[str, Any]) -> str:
    return str((meta.get("annotations") or {}).get(MIGRATED_FROM) or "")


def _same_but_status(known: SourceObject, obj: Mapping[str, Any]) -> bool:
    """``obj`` differs from what ``known`` was parsed from at most in its status (and resourceVersion)."""
    meta = _meta(obj)
    return (str(meta.get("uid") or "") == known.uid
            and int(meta.get("generation") or 0) == known.generation
            and str((meta.get("annotations") or {}).get(REQUESTED_AT, "")) == known.requested_at
            and tuple(meta.get("finalizers") or ()) == known.finalizers)


def _write_secret(directory: Path, data: Mapping[str, Any], secret: str) -> SecretFiles:
    """Secret ``secret``'s keys, one file each under ``directory``. The API server takes any bytes: a key
    git reads as text that is not UTF-8 is a ConfigError naming the Secret and key."""
    values = {str(k): base64.b64decode(str(v)) for k, v in data.items()}
    for key in _TEXT_KEYS:
        try:
            values.get(key, b"").decode("utf-8")
        except UnicodeDecodeError:
            raise ConfigError(f"{key} in Secret {secret} is not UTF-8", key="secretRef") from None
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True, mode=0o700)
    keys = set()
    for key, value in values.items():
        if not _SECRET_KEY.match(key) or key in (".", ".."):
            continue
        path = directory / key
        path.touch(mode=0o600)
        path.write_bytes(value)
        keys.add(key)
    return SecretFiles(directory, frozenset(keys))
