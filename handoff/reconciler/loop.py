"""The reconcile loop per source: fetch → render → validate → apply → prune → drift → health → status.

A revision that fails to fetch, render or validate is not applied: the last good one stays (and keeps
being drift-corrected) and the status says why. Only the Lease holder writes.
"""

from __future__ import annotations

import collections
import contextlib
import copy
import dataclasses
import functools
import logging
import os
import queue
import threading
import time
import traceback
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from handoff.config import load_config
from handoff.errors import (
    GitError,
    HandoffError,
    PathEscapeError,
    ReconcileError,
    RenderError,
    RevisionRefused,
)
from handoff.kube.client import FIELD_MANAGER, KubeClient, KubeError, KubeUnavailable
from handoff.kube.lease import LeaderElector, shard_of
from handoff.manifests.sensitive import rules_for, scrub, secret_strings
from handoff.pathsafe import resolve_inside
from handoff.reconciler import (
    adoption,
    authority,
    floor,
    inventory,
    namespaces,
    prune,
    rbacreach,
    rollback,
    status,
)
from handoff.reconciler.apply import FOREIGN_MANAGERS, Applied, apply_one
from handoff.reconciler.config import PolicyFloor, Settings, Source
from handoff.reconciler.drift import Drift, compare, removed_when_finished
from handoff.reconciler.guard import (
    borrowing_identity,
    configuration_secrets,
    is_admission,
    own_objects,
)
from handoff.reconciler.health import HEALTHY, health
from handoff.reconciler.livelists import RoundLists
from handoff.reconciler.masking import masked_result
from handoff.reconciler.metrics import Metrics
from handoff.reconciler.objects import (
    OWNER_LABEL,
    ObjectKey,
    drift_ignored,
    key_of,
    labelled,
    ordered,
    owned_by,
    owner_label,
    owner_value,
    ref_of,
    unique_by_key,
)
from handoff.reconciler.report_status import StatusReporter
from handoff.reconciler.source import Checkout, FetchPool, GitSource
from handoff.render.policy import render_policy
from handoff.report.model import ObjectRef, Severity, WaiverUse
from handoff.retry import RetryPolicy
from handoff.workflows.plan import Plan, plan_env, plan_source_path

log = logging.getLogger("handoff.reconciler")
_MAX_BACKOFF = 300.0
DEFAULT_FLOOR = PolicyFloor()
TRANSIENT = frozenset({"git", "kube-unavailable"})  # error kinds a later pass may not meet again
_SERVED_WAIT_SECONDS = 30.0  # a restored CRD serving its old versions again
# the API server still enforces an admission object for a moment after its deletion (its policy cache lags)
_ADMISSION_LAG_SECONDS = 10.0
ONCE_ATTEMPTS = 5  # ``reconcile --once``: a transient failure is tried again, 1 + 2 + 4 + 8 s of backoff
# Fault injection for the kill -9 tests: after this many applies in one process, stop (sleep) so the test
# kills the process at a known point between preflight and the last apply. Unset (0) in real use.
_PAUSE_AFTER_APPLIES = int(os.environ.get("HANDOFF_RECONCILER_PAUSE_AFTER_APPLIES", "0") or 0)


def _pause_for_fault_injection() -> None:
    log.warning("paused for fault injection (HANDOFF_RECONCILER_PAUSE_AFTER_APPLIES)")
    threading.Event().wait()


_RBAC = "rbac.authorization.k8s.io"


class RefusedError(ReconcileError):
    """A safety guard stopped the pass (empty render, mass prune)."""


class AuthorityDenied(RefusedError):
    """A revision names objects outside its source's grant."""


class OwnershipConflict(RefusedError):
    """A revision names an object another source of this reconciler owns and still desires."""


@dataclass
class _AdmissionFirst:
    """The source's own webhooks and admission policies a new revision removes or changes, deleted or
    applied before the rest of it is preflighted (one failing closed on the source's objects would deny
    the very revision that removes it), with what puts them back if that revision is not applied."""

    deleted: list[tuple[ObjectRef, Mapping[str, Any]]] = field(default_factory=list)  # with its live content
    updated: list[rollback.Updated] = field(default_factory=list)
    journal: inventory.Inventory | None = None  # the inventory before it was marked pending for them

    @property
    def keys(self) -> frozenset[ObjectKey]:
        return frozenset((*(key_of(r) for r, _ in self.deleted), *(u.key for u in self.updated)))


@dataclass
class _SourceState:
    applied_revision: str = ""
    desired: list[dict[str, Any]] = field(default_factory=list)
    next_due: float = 0.0
    failures: int = 0
    # resourceVersion of each object when last known to match the desired state: an unchanged
    # resourceVersion cannot have drifted, so the dry-run is skipped for it
    in_sync: dict[ObjectKey, str] = field(default_factory=dict)
    recorded_revision: str = ""  # what the inventory says is applied (known before this process applied)
    policy: Revision | None = None  # the last rendered revision: its waivers and disabled policies
    attempted_revision: str = ""  # what the remote named last (a failed pass names it too)
    respec: bool = False  # the spec changed: apply in full even when the inventory names this revision
    rendered: frozenset[ObjectKey] = frozenset()  # the keys of its last successful render (claims, prune)
    # Jobs whose live copy, when last seen, carried a ttlSecondsAfterFinished (from Git or admission)
    self_removing: set[ObjectKey] = field(default_factory=set)

    @property
    def last_good(self) -> str:
        return self.applied_revision or self.recorded_revision


def error_kind(e: BaseException) -> str:
    if isinstance(e, AuthorityDenied):
        return "authority"
    if isinstance(e, OwnershipConflict):
        return "conflict"
    if isinstance(e, RefusedError | RevisionRefused):  # the revision itself: a new one is needed
        return "refused"
    if isinstance(e, GitError):
        return "git"
    if isinstance(e, RenderError | PathEscapeError):  # a render refused for what it would read
        return "render"
    if isinstance(e, KubeUnavailable):
        return "kube-unavailable"
    if isinstance(e, KubeError | namespaces.NamespaceMissing):
        return "apply"
    return "validate" if isinstance(e, ReconcileError) else type(e).__name__


def plan_source(source: Source, checkout: Checkout) -> Plan:
    """The plan of a revision, as CI makes it (``handoff.workflows.plan``: the config's Kubernetes
    version, missing schemas are findings, the config's policies and waivers, the environment's
    params): ``renderer: env`` is exactly the plan the PR for that environment showed. The source's
    render policy (its allow-listed remotes, the render caps) is the operator's config, never the repo's."""
    with render_policy(source.render_policy):
        return _plan_source(source, checkout)


def _plan_source(source: Source, checkout: Checkout) -> Plan:
    root = checkout.root.resolve()
    try:
        path = resolve_inside(root, source.path, key=f"sources.{source.name}.path")
    except PathEscapeError as e:
        raise RenderError(f"source {source.name}: revision {checkout.revision[:12]}: {e}") from e
    if not path.exists():
        raise RenderError(f"source {source.name}: path {source.path!r} not found in revision "
                          f"{checkout.revision[:12]}")
    config = load_config(root)
    if source.renderer == "env":
        if config is None or source.env is None:
            raise RenderError(f"source {source.name}: renderer env needs a .handoff.yaml declaring "
                              f"environment {source.env!r}")
        return plan_env(root, config, source.env, revision=checkout.revision)
    values = [resolve_inside(root, v, key=f"sources.{source.name}.values") for v in source.values]
    kind = None if source.renderer == "auto" else source.renderer
    return plan_source_path(root, config, path, kind=kind, values=values, release=source.release,
                            namespace=source.namespace, env=source.env, revision=checkout.revision)


@dataclass(frozen=True)
class Revision:
    """What a valid revision applies, and the waivers and disabled repo policies that let it through."""

    objects: list[dict[str, Any]]
    waivers: tuple[WaiverUse, ...] = ()
    disabled_policies: tuple[str, ...] = ()
    origins: tuple[str, ...] = ()  # ``file:line`` of each object, in order, for refusals to name


def render_revision(source: Source, checkout: Checkout,
                    policy_floor: PolicyFloor = DEFAULT_FLOOR) -> Revision:
    """The revision's plan, then the operator's policy floor over its objects; any ERROR finding of
    either makes it invalid."""
    plan = plan_source(source, checkout)
    verdict = floor.check(policy_floor, plan, load_config(checkout.root.resolve()))
    errors = [f for f in plan.report.findings if f.severity >= Severity.ERROR] + list(verdict.errors)
    if errors:
        first = errors[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise ReconcileError(f"revision {checkout.revision[:12]} is invalid: {first.file}:{first.line}: "
                             f"{first.message}{more}")
    return Revision([dict(o.obj) for o in plan.objects], verdict.waivers, verdict.disabled,
                    tuple(f"{o.file}:{o.line}" for o in plan.objects))


def render_source(source: Source, checkout: Checkout) -> list[dict[str, Any]]:
    """The objects to apply for a revision (under the default policy floor)."""
    return render_revision(source, checkout).objects


def _waiver_text(w: WaiverUse) -> str:
    return f"{w.rule} on {w.object or 'every object'} ({w.source}: {w.reason})"


def _drift_message(source: Source, drift: tuple[Drift, ...]) -> str:
    if not drift:
        return "no change"
    reverted = source.self_heal and source.drift_mode == "revert"
    held = [d.not_reverted for d in drift if d.not_reverted]
    kept = f"; {len(held)} not reverted ({held[0]})" if held and reverted else ""
    return f"{'reverted drift in' if reverted else 'drift detected in'} {len(drift)} object(s){kept}"


def _health_counts(objects: Iterable[tuple[ObjectRef, Mapping[str, Any]]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for ref, obj in objects:
        h = health(ref, obj).status
        counts[h] = counts.get(h, 0) + 1
    return counts


def _pass_backoff(source: Source) -> RetryPolicy:
    """After failed passes: 1 s, 2 s, 4 s … up to five intervals (at most 5 minutes), with a little
    jitter so sources failing together (one git server down) do not retry in lockstep. A controller
    never gives up, so only the backoff curve is used, not the attempt count."""
    return RetryPolicy(base_delay=1.0, max_delay=min(max(source.interval * 5, 1.0), _MAX_BACKOFF), jitter=0.1)


def _scratch_namespace(source: Source, objects: Iterable[Mapping[str, Any]]) -> str:
    """An existing namespace to dry-run objects of a not-yet-created Namespace in: the source's own,
    unless the revision creates that one too (then ``default``, which every cluster has)."""
    created = {str(o["metadata"]["name"]) for o in objects if o.get("kind") == "Namespace"}
    return "default" if source.namespace in created else source.namespace


def _scratch_dry_run(client: KubeClient, obj: Mapping[str, Any], namespace: str) -> None:
    """Dry-run ``obj`` as a create in ``namespace`` under its real name (a dry-run writes nothing, so no
    namesake there is touched): what its own not-yet-existing Namespace would validate, name included,
    without creating that Namespace. Only when a namesake exists there (the name is then valid) is it
    dry-run again under a generated name."""
    body = copy.deepcopy(dict(obj))
    meta = body["metadata"]
    meta["namespace"] = namespace
    res = client.resource(str(body["apiVersion"]), str(body["kind"]))
    params = {"dryRun": "All", "fieldManager": FIELD_MANAGER}
    try:
        client.request("POST", res.path(namespace), params=params, body=body)
    except KubeError as e:
        if e.status != 409 or isinstance(e, KubeUnavailable):
            raise
        meta["generateName"] = f"{str(meta.pop('name'))[:40]}-"
        client.request("POST", res.path(namespace), params=params, body=body)


def _existing(client: KubeClient, ref: ObjectRef) -> Mapping[str, Any] | None:
    """The live object, None when there is none. An identity that may not read it (403) counts it as
    existing, so a rollback never deletes what it cannot see it created."""
    try:
        return client.get(ref.api_version, ref.kind, ref.name, ref.namespace)
    except KubeError as e:
        if e.status == 404:
            return None
        if e.status == 403 and not isinstance(e, KubeUnavailable):
            return {}
        raise


def _incomplete(problems: Iterable[rollback.Problem]) -> str:
    names = [str(p) for p in problems]
    return f"; roll-back incomplete: {'; '.join(names)}" if names else ""


def _served(client: KubeClient, api_version: str, kind: str) -> bool:
    try:
        client.resource(api_version, kind)
    except KubeError as e:
        if e.status != 404 or isinstance(e, KubeUnavailable):
            raise
        return False
    return True


def _finalizers(manifest: Mapping[str, Any] | None) -> list[str]:
    return [str(f) for f in ((manifest or {}).get("metadata") or {}).get("finalizers") or ()]


def _wait_served(client: KubeClient, manifests: Iterable[Mapping[str, Any]], groups: Collection[str],
                 timeout: float = _SERVED_WAIT_SECONDS) -> None:
    """Wait until the API server serves the version each manifest of a restored CRD's group names (a CRD
    put back serves its old versions again only once its handlers are rebuilt); at most ``timeout``."""
    wanted = {(str(m.get("apiVersion")), str(m.get("kind"))) for m in manifests
              if str(m.get("apiVersion")).rpartition("/")[0] in groups}
    if not wanted:
        return
    deadline = time.monotonic() + timeout
    client.forget_discovery()
    while not all(_served(client, v, k) for v, k in wanted) and time.monotonic() < deadline:
        time.sleep(0.2)
        client.forget_discovery()


def _at_served_version(client: KubeClient, manifest: Mapping[str, Any] | None,
                       ref: ObjectRef) -> Mapping[str, Any] | None:
    """``manifest`` at a version the API server serves now: its own, else the version the pass wrote the
    object at (an identity is version-free, so either puts the same object back)."""
    if manifest is None or _served(client, str(manifest.get("apiVersion")), str(manifest.get("kind"))):
        return manifest
    return {**manifest, "apiVersion": ref.api_version}


def _uid(obj: Mapping[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("uid", ""))


def _rv(obj: Mapping[str, Any] | None) -> str:
    return str(((obj or {}).get("metadata") or {}).get("resourceVersion", ""))


class Reconciler:
    def __init__(self, settings: Settings, client: KubeClient, workdir: Path, *,
                 metrics: Metrics | None = None, elector: LeaderElector | None = None,
                 renderer: Callable[[Source, Checkout], Revision] | None = None) -> None:
        self.settings = settings
        self.client = client
        self.workdir = workdir
        self.metrics = metrics or Metrics()
        self.elector = elector
        self.renderer = renderer or (lambda s, c: render_revision(s, c, settings.policy_floor))
        self._sources: dict[str, Source] = {}
        # sources not served now whose objects stay theirs (a Stalled or suspended Source object), with
        # why: owners not known now to the conflict check, claiming their last inventory in every prune
        self.held: dict[str, tuple[Source, str]] = {}
        self._last: collections.deque[Callable[[], None]] = collections.deque()  # see ``hand_last``
        self.clients: dict[str, KubeClient] = {}
        self.state: dict[str, _SourceState] = {}
        self.git: dict[str, GitSource] = {}
        self.fetches = FetchPool(workdir)  # sources of one repository and ref share one clone
        self.lists = RoundLists()  # a round's drift checks share one list per kind and namespace
        self.status_writer = status.StatusWriter()  # status ConfigMaps written only when they change
        for s in settings.sources:
            self.set_source(s)
        # work other threads (the Source watch) hand to the loop's thread, run between passes
        self.inbox: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        # set when work arrives (handed work, a sync request): the loop's wait between ticks ends at once
        self.wake = threading.Event()
        # called after each pass's status is published (the Source object's status)
        self.after_pass: list[Callable[[Source, status.PassResult], None]] = []
        # called on the loop's thread once this replica gains leadership (what standby could not write)
        self.on_leading: list[Callable[[], None]] = []
        self._was_leading = False
        self._applies = 0
        self._namespace_ready = False
        # the error kinds of a failed pass that are tried again: every kind (None: the loop backs off and
        # passes again), or in a bounded run (``run_once``) the transient ones until its last attempt
        self.retried_kinds: frozenset[str] | None = None
        self.rules = rules_for(settings.sensitive)
        self.reporter = StatusReporter(settings.status, workdir, self.metrics)
        self.after_pass.append(self.reporter.report)
        # the sensitive values of each source's latest render, masked in every message it causes
        self._secrets: dict[str, dict[str, str]] = {}

    def retry_later(self, error_kind: str) -> bool:
        """Whether a pass that failed with ``error_kind`` will be tried again by this run."""
        return self.retried_kinds is None or error_kind in self.retried_kinds

    # ---- gating ----------------------------------------------------------------------------------
    def can_write(self) -> bool:
        return self.elector is None or self.elector.is_leader

    def owns(self, source: Source) -> bool:
        return shard_of(source.name, self.settings.shards) == self.settings.shard

    # ---- one pass ----------------------------------------------------------------------------------
    def reconcile(self, source: Source) -> status.PassResult:
        started = time.monotonic()
        state = self.state[source.name]
        try:
            result = self._pass(source, state)
        except HandoffError as e:
            result = status.PassResult(source=source.name, result=status.FAILED, message=str(e),
                                       attempted_revision=state.attempted_revision,
                                       applied_revision=state.last_good, error_kind=error_kind(e),
                                       objects=len(state.desired))
        except Exception as e:  # a bug: a long-running controller reports it and keeps serving
            # the traceback's text may quote a rendered object: masked like every message of the pass
            trace = "".join(traceback.format_exception(e)).rstrip("\n")
            log.error("unexpected error in a reconcile pass",
                      extra={"source": source.name,
                             "error": scrub(trace, self._known_secrets(source, state))})
            result = status.PassResult(source=source.name, result=status.FAILED,
                                       message=f"unexpected error: {type(e).__name__}: {e}",
                                       attempted_revision=state.attempted_revision,
                                       applied_revision=state.last_good, error_kind="bug",
                                       objects=len(state.desired))
        drifted = tuple(d.ref for d in result.drift)  # the real objects, which their drift Events are about
        result = masked_result(dataclasses.replace(result, duration=time.monotonic() - started),
                               self._known_secrets(source, state))
        self._record(source, state, result, drifted)
        return result

    def _known_secrets(self, source: Source, state: _SourceState) -> dict[str, str]:
        """The sensitive values of what ``source`` last applied and last rendered (value -> mask)."""
        return {**secret_strings(state.desired, self.rules), **self._secrets.get(source.name, {})}

    def _pass(self, source: Source, state: _SourceState) -> status.PassResult:
        git = self.git[source.name]
        self._ensure_own_namespace()
        try:
            revision = git.remote_revision()
        except GitError as e:
            # the revision is unknown: name the last one seen, else the ref being followed
            seen = state.attempted_revision or state.last_good or source.revision
            return self._kept(source, state, seen, e)
        state.attempted_revision = revision
        if not state.applied_revision and not state.respec:
            self._resume(source, state, revision)
        if revision == state.applied_revision:
            drift, healthy = self._drift_pass(source, state)
            return self._result(source, state, status.SUCCEEDED, _drift_message(source, drift), revision,
                                drift=drift, healthy=healthy)
        early = _AdmissionFirst()
        try:
            # every object is rendered, validated and dry-run before the first one is written, but for the
            # source's own admission objects the revision removes or changes (``_admission_first``)
            rendered = self.renderer(source, git.checkout(revision))
            fresh = self._prepare(source, rendered.objects, rendered.origins)
            self._refuse_conflicts(source, fresh)
            adopted = self._refuse_takeover(source, fresh)
            state.rendered = frozenset(key_of(ref_of(o)) for o in fresh)
            for ns in namespaces.ensure_targets(self._as(source), source, fresh,
                                                authority.grant_of(source, self.settings.namespace)):
                log.warning("created the source's target namespace",
                            extra={"source": source.name, "namespace": ns})
            self._admission_first(source, state, revision, fresh, early)
            deferred = self._preflight_past(self._as(source), fresh, early,
                                            scratch=_scratch_namespace(source, fresh))
        except KubeUnavailable:
            raise
        except (GitError, RenderError, ReconcileError) as e:
            # a revision that will not be applied: what an unfinished pass (killed mid-apply) left goes too
            left = self._undo_admission_first(source, state, early, relist=True)
            left += [] if isinstance(e, GitError) else self._abandon_unfinished(source, state)
            return self._kept(source, state, revision, e, note=_incomplete(left))
        state.policy = rendered  # its waivers and disabled policies are reported while it is the one live
        return self._apply_revision(source, state, revision, fresh, deferred, early=early, adopted=adopted)

    def _ensure_own_namespace(self) -> None:
        """The reconciler's namespace (Lease, inventory, status) is created when missing and allowed;
        otherwise the pass fails with one line saying what to run."""
        if self._namespace_ready:
            return
        ns = self.settings.namespace
        if not namespaces.exists(self.client, ns):
            namespaces.create(self.client, {"apiVersion": "v1", "kind": "Namespace",
                                            "metadata": {"name": ns}})
            log.warning("created the reconciler's namespace", extra={"namespace": ns})
        self._namespace_ready = True

    def _kept(self, source: Source, state: _SourceState, revision: str,
              problem: HandoffError, note: str = "") -> status.PassResult:
        """The revision ``revision`` is not applied; the last good one stays and is drift-corrected."""
        drift, _ = self._drift_pass(source, state)
        kept = f" (keeping revision {state.last_good[:12]})" if state.last_good else ""
        verb = "not fetched" if isinstance(problem, GitError) else "not applied"
        what = f"revision {revision[:12]} {verb}" if revision and revision != state.applied_revision else \
            "source not fetched" if isinstance(problem, GitError) else "pass failed"
        outcome = status.REFUSED if isinstance(problem, RefusedError) else status.FAILED
        return self._result(source, state, outcome, f"{what}{kept}: {problem}{note}", revision, drift=drift,
                            error=error_kind(problem))

    def _result(self, source: Source, state: _SourceState, result: str, message: str, revision: str, *,
                drift: tuple[Drift, ...] = (), error: str = "", applied: int = 0,
                pruned: prune.PruneResult | None = None, healthy: Mapping[str, int] | None = None,
                ) -> status.PassResult:
        reverted = bool(drift) and source.self_heal and source.drift_mode == "revert"
        return status.PassResult(
            source=source.name, result=result, message=message, attempted_revision=revision,
            applied_revision=state.last_good,
            applied=applied + (sum(1 for d in drift if not d.not_reverted) if reverted else 0),
            objects=len(state.desired), pruned=pruned.deleted if pruned else (),
            prune_kept=pruned.kept if pruned else (), drift=drift, drift_reverted=reverted,
            health=dict(healthy or {}), error_kind=error,
            waivers=tuple(_waiver_text(w) for w in state.policy.waivers) if state.policy else (),
            disabled_policies=state.policy.disabled_policies if state.policy else ())

    # ---- steps -----------------------------------------------------------------------------------
    def _resume(self, source: Source, state: _SourceState, revision: str) -> None:
        """After a restart, a revision the inventory says is applied only needs a drift check."""
        previous = inventory.read(self.client, self.settings.namespace, source.name)
        if previous is None:
            return
        state.recorded_revision = previous.revision
        if previous.pending or previous.revision != revision:
            return  # a pass died half-way (pending): apply in full, which also prunes its leftovers
        try:
            checkout = self.git[source.name].checkout(revision)
            state.policy = self.renderer(source, checkout)
            state.desired = self._prepare(source, state.policy.objects)
        except (GitError, RenderError, ReconcileError):
            return
        state.applied_revision = revision

    def _prepare(self, source: Source, objects: list[dict[str, Any]],
                 origins: Sequence[str] = ()) -> list[dict[str, Any]]:
        """The revision's objects labelled as ``source``'s, once the guards and the grant admit them;
        ``origins``: each object's ``file:line``, named in a refusal."""
        self._secrets[source.name] = secret_strings(objects, self.rules)
        if not objects:
            raise RefusedError(f"source {source.name} rendered no objects; refusing an empty render "
                               "(nothing applied, nothing pruned)")
        crd_scopes = {(str(((o.get("spec") or {}).get("names") or {}).get("kind")),
                       str((o.get("spec") or {}).get("scope", "Namespaced"))) for o in objects
                      if o.get("kind") == "CustomResourceDefinition"}
        out = []
        for obj in objects:
            try:
                namespaced = self.client.resource(str(obj.get("apiVersion")), str(obj.get("kind"))).namespaced
            except KubeError as e:
                if e.status != 404:
                    raise
                namespaced = (str(obj.get("kind")), "Cluster") not in crd_scopes
            out.append(labelled(obj, source.name, source.namespace if namespaced else None))
        # the reconciler's own objects first: the more specific refusal, whatever the grant
        secrets = configuration_secrets(self.sources())
        own = own_objects((ref_of(o) for o in out), self.settings, secrets)
        if own:
            more = f" and {len(own) - 5} more" if len(own) > 5 else ""
            raise RefusedError(f"source {source.name} names the reconciler's own objects "
                               f"({', '.join(str(r) for r in own[:5])}{more}); refusing the revision "
                               "(nothing applied)")
        grant = authority.grant_of(source, self.settings.namespace)
        borrowed = borrowing_identity(out, self.settings, secrets, grant.authority.cluster_kinds,
                                      authority.namespace_covered(grant, self.settings.namespace),
                                      mutating_pods=grant.authority.allow_mutating_pods)
        if borrowed:
            where = {key_of(ref_of(o)): f"{origin}: " for o, origin in zip(out, origins, strict=False)}
            names = "; ".join(f"{where.get(key_of(r), '')}{r} {why}" for r, why in borrowed[:5])
            raise RefusedError(f"source {source.name}: {names}; refusing the revision (nothing applied)")
        outside = authority.denied_objects(out, grant)
        if outside:
            more = f" and {len(outside) - 5} more" if len(outside) > 5 else ""
            raise AuthorityDenied(f"source {source.name} may not touch "
                               f"{'; '.join(f'{r} ({why})' for r, why in outside[:5])}{more}; "
                               "refusing the revision (nothing applied)")
        # within the grant: RBAC that hands git credentials to the repo's pods through the API
        reach = rbacreach.reaching(out, rbacreach.Guarded.of(secrets, self.settings.namespace), self.client)
        if reach:
            names = "; ".join(f"{r} {why}" for r, why in reach[:5])
            raise RefusedError(f"source {source.name}: {names}; refusing the revision (nothing applied)")
        return ordered(out)  # type: ignore[return-value]

    def _preflight_past(self, client: KubeClient, objects: Sequence[Mapping[str, Any]],
                        early: _AdmissionFirst, *, scratch: str) -> list[Mapping[str, Any]]:
        """The preflight, tried again (for at most ``_ADMISSION_LAG_SECONDS``) while an admission object
        ``_admission_first`` just deleted or changed refuses it: the API server enforces the version it
        replaced a moment longer."""
        deadline = time.monotonic() + _ADMISSION_LAG_SECONDS
        names = rollback.admission_names([*(live for _, live in early.deleted),
                                          *(u.snapshot for u in early.updated)])
        while True:
            try:
                return self._preflight(client, objects, scratch=scratch)
            except (ReconcileError, KubeUnavailable) as e:  # unavailable: a webhook that cannot be called
                if not rollback.refused_by(str(e), names) or time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    def _preflight(self, client: KubeClient, objects: Iterable[Mapping[str, Any]], *, scratch: str,
                   final: bool = False) -> list[Mapping[str, Any]]:
        """Server-side dry-run of every object, so a revision the API server rejects changes nothing.

        Nothing is created for it: a Namespace the revision adds is dry-run itself, and an object in such a
        Namespace is dry-run as a create in ``scratch`` (an existing namespace) under a generated name.
        Objects of a kind whose CRD the same revision adds cannot be dry-run yet: they are returned, to be
        dry-run once those CRDs exist and before anything else is written (``final``: no more deferring)."""
        objects = list(objects)
        created_ns = {str(o["metadata"]["name"]) for o in objects if o.get("kind") == "Namespace"}
        has_crds = any(o.get("kind") == "CustomResourceDefinition" for o in objects)
        deferred: list[Mapping[str, Any]] = []
        for obj in objects:
            ns = str(obj["metadata"].get("namespace") or "")
            try:
                try:
                    client.apply(obj, dry_run=True)
                except KubeError as e:
                    if e.status != 404 or ns not in created_ns or isinstance(e, KubeUnavailable):
                        raise
                    _scratch_dry_run(client, obj, scratch)
            except KubeUnavailable:
                raise
            except KubeError as e:
                if not final and e.status == 404 and (ns in created_ns or has_crds):
                    deferred.append(obj)
                    continue
                raise ReconcileError(f"{ref_of(obj)} rejected by the API server: {e}") from e
        return deferred

    def _live(self, source: Source, objects: Iterable[Mapping[str, Any]], *,
              shared: bool = False) -> dict[ObjectKey, dict[str, Any]]:
        """The live objects of ``source`` among the kinds and namespaces of ``objects``; ``shared``: from
        the round's lists (a drift check), else listed now (before applying)."""
        groups = {(str(o["apiVersion"]), str(o["kind"]), str(o["metadata"].get("namespace") or ""))
                  for o in objects}
        live: dict[ObjectKey, dict[str, Any]] = {}
        lists = self.lists if shared else RoundLists()
        for api_version, kind, ns in sorted(groups):
            try:
                for item in lists.owned(self._as(source), source.service_account or "",
                                        api_version=api_version, kind=kind, namespace=ns,
                                        owner=owner_value(source.name)):
                    live[key_of(ref_of(item))] = item
            except KubeError as e:
                if e.status != 404:
                    raise
        return live

    def _scoped(self, refs: Iterable[ObjectRef]) -> tuple[ObjectRef, ...]:
        """Inventory entries with the namespace cleared on cluster-scoped kinds (older inventories listed a
        manifest's stray ``metadata.namespace``), so each object has the identity ``_prepare`` gives it."""
        out = []
        for ref in refs:
            cluster_scoped = False
            if ref.namespace:
                try:
                    cluster_scoped = not self.client.resource(ref.api_version, ref.kind).namespaced
                except KubeError as e:
                    if e.status != 404:
                        raise
            out.append(ObjectRef(ref.api_version, ref.kind, ref.name, "") if cluster_scoped else ref)
        return unique_by_key(out)

    def _apply_revision(self, source: Source, state: _SourceState, revision: str,
                        objects: list[dict[str, Any]], deferred: list[Mapping[str, Any]], *,
                        early: _AdmissionFirst, adopted: Collection[ObjectKey] = ()) -> status.PassResult:
        previous = inventory.read(self.client, self.settings.namespace, source.name)
        before = self._scoped(previous.objects) if previous else ()
        current = [ref_of(o) for o in objects]
        live = self._live(source, objects)
        present = {key_of(ref_of(o)): self._before_write(source, o, live) for o in objects}
        unfinished = previous.creating if previous and previous.pending else ()
        creating = unique_by_key((*unfinished, *(ref_of(o) for o in objects
                                                 if present[key_of(ref_of(o))] is None)))
        # list new objects before creating any: a kill mid-apply must not leave unlisted, never-pruned ones;
        # ``pending`` makes the next pass (or the next process) complete this same revision, and the journal
        # (``base``, ``creating``) lets it roll back what the killed pass created
        inventory.write(self.client, self.settings.namespace, source.name,
                        inventory.Inventory(previous.revision if previous else "",
                                            unique_by_key((*before, *current)), pending=revision,
                                            base=self._scoped(previous.listed_before()) if previous else (),
                                            creating=creating))
        undo = rollback.Undo(previous, created=self._left_by_unfinished(source, unfinished))
        applied: list[Applied] = []
        objects_left: list[Mapping[str, Any]] = list(objects)
        if deferred:
            # only the CRDs the deferred objects need go first; nothing else is written until those objects
            # passed their dry-run too, and a rejection puts those CRDs back as they were
            needed = {(key_of(ref_of(o)).group, str(o.get("kind"))) for o in deferred}
            scaffold = [o for o in objects if o.get("kind") == "CustomResourceDefinition"
                        and (str((o.get("spec") or {}).get("group")),
                             str(((o.get("spec") or {}).get("names") or {}).get("kind"))) in needed]
            try:
                applied += [self._write(source, o, live, present, undo, adopted=adopted) for o in scaffold]
                namespaces = [o for o in objects if o.get("kind") == "Namespace"]  # tell which are new
                self._preflight(self._as(source), namespaces + deferred,
                                scratch=_scratch_namespace(source, objects), final=True)
            except KubeUnavailable:
                raise
            except ReconcileError as e:
                return self._rejected(source, state, revision, undo, e, early=early)
            objects_left = [o for o in objects if not any(o is c for c in scaffold)]
        # what cannot be put back in place goes last: a rejection of any other object comes before it
        objects_left = [o for o in objects_left if not rollback.freezes(o, present[key_of(ref_of(o))])] + \
            [o for o in objects_left if rollback.freezes(o, present[key_of(ref_of(o))])]
        for obj in objects_left:
            try:
                applied.append(self._write(source, obj, live, present, undo, adopted=adopted))
            except KubeUnavailable:
                raise  # the next pass completes (rolls forward) this same revision
            except KubeError as e:
                # a permanent refusal (kube.errors.unavailable says which 5xx are): roll back
                if e.status is None or e.status == 409:
                    raise
                return self._rejected(source, state, revision, undo, ReconcileError(
                    f"{ref_of(obj)} rejected by the API server: {e}"), early=early)
        # neither the reconciler's own objects nor those outside the source's grant are deleted, nor what
        # another source of this reconciler desires now (an object moved between sources)
        grant = authority.grant_of(source, self.settings.namespace)
        plan = self._prune_plan(source, before, current)
        pruned = prune.execute(self._as(source), plan, source.name, authority.covers(grant))
        keep = unique_by_key((*before, *current)) if plan.refused or not source.prune else \
            unique_by_key((*current, *pruned.deferred))
        inventory.write(self.client, self.settings.namespace, source.name,
                        inventory.Inventory(revision, keep))
        state.applied_revision, state.desired = revision, objects
        state.in_sync = {key_of(a.ref): _rv(a.result) for a in applied}
        state.self_removing = {key_of(a.ref) for a in applied if removed_when_finished(a.result)}
        healthy = _health_counts((a.ref, a.result) for a in applied)
        if plan.refused:
            return self._result(source, state, status.REFUSED, f"applied revision {revision[:12]}; "
                                f"prune refused: {plan.refused}", revision, applied=len(applied),
                                pruned=pruned, healthy=healthy, error="refused")
        later = f"; prune of {len(pruned.deferred)} object(s) deferred (status prune.kept says why)" \
            if pruned.deferred else ""
        return self._result(source, state, status.SUCCEEDED, f"applied revision {revision[:12]}{later}",
                            revision, applied=len(applied), pruned=pruned, healthy=healthy)

    def _prune_plan(self, source: Source, before: Collection[ObjectRef],
                    current: Collection[ObjectRef]) -> prune.PrunePlan:
        """What a pass of ``source`` may delete: neither the reconciler's own objects nor those outside the
        source's grant, nor what another source of this reconciler desires now (an object moved)."""
        if not source.prune:
            return prune.PrunePlan()
        grant = authority.grant_of(source, self.settings.namespace)
        own = own_objects(before, self.settings, configuration_secrets(self.sources()))
        dropped = {key_of(r) for r in before} - {key_of(r) for r in current}
        claimed, unknown = self.claimed_elsewhere(source) if dropped else ({}, [])
        return prune.plan(before, current, self.settings.prune, own, claimed=claimed, unknown=unknown,
                          outside_grant=authority.denied(before, grant))

    def _admission_first(self, source: Source, state: _SourceState, revision: str,
                         objects: Sequence[Mapping[str, Any]], early: _AdmissionFirst) -> None:
        """Delete the source's own admission objects the revision drops (as its prune would) and apply
        those it changes, before the rest of it is preflighted, noting in ``early`` how to put them back.
        The inventory is marked pending first, so that after a kill the next pass that does not apply this
        revision puts the previous revision's manifests back (``_abandon_unfinished``)."""
        previous = inventory.read(self.client, self.settings.namespace, source.name)
        before = self._scoped(previous.objects) if previous else ()
        if previous is None or not any(is_admission(r) for r in before):
            return
        client, current = self._as(source), [ref_of(o) for o in objects]
        old = {key_of(ref_of(o)): o for o in state.desired}
        plan = self._prune_plan(source, before, current)
        dropped = [(r, live) for r in (plan.delete if not plan.refused else ()) if is_admission(r)
                   if (live := _existing(client, r)) and owned_by(live, source.name)]
        listed = {key_of(r) for r in before}
        changed = [(o, live) for o in objects if is_admission(ref_of(o)) and key_of(ref_of(o)) in listed
                   and old.get(key_of(ref_of(o))) != o
                   if (live := _existing(client, ref_of(o))) and owned_by(live, source.name)]
        if not dropped and not changed:
            return
        if not previous.pending:
            inventory.write(self.client, self.settings.namespace, source.name, inventory.Inventory(
                previous.revision, before, pending=revision, base=before))
            early.journal = previous
        ref = ObjectRef("", "", "")
        try:
            for ref, live in dropped:
                rollback.delete_by_uid(client, ref, _uid(live))
                early.deleted.append((ref, live))
                rollback.release(client, ref, _uid(live), _finalizers(old.get(key_of(ref))))
            for obj, live in changed:
                ref = ref_of(obj)
                apply_one(client, obj, live)
                early.updated.append(rollback.Updated(key_of(ref), ref, live))
        except KubeUnavailable:
            raise
        except KubeError as e:
            raise ReconcileError(f"{ref} rejected by the API server: {e}") from e

    def _undo_admission_first(self, source: Source, state: _SourceState, early: _AdmissionFirst, *,
                              relist: bool) -> list[rollback.Problem]:
        """Put back the admission objects ``_admission_first`` changed (a roll-back midway gives the changed
        ones to ``_put_back`` first) and re-create those it deleted: last, after every other object, so none
        of the previous revision's (failing closed, say) stands in the way of the other restores;
        ``relist``: list again what the inventory listed before (the revision failed before its apply
        wrote it)."""
        client = self._as(source)
        old = {key_of(ref_of(o)): o for o in state.desired}
        problems = [p for u in early.updated
                    if (p := rollback.restore(client, u, old.get(u.key), source.name)) is not None]
        problems += [p for ref, live in early.deleted
                     if (p := rollback.recreate(client, ref, old.get(key_of(ref)), live)) is not None]
        if relist and early.journal is not None and not problems:
            inventory.write(self.client, self.settings.namespace, source.name, early.journal)
        if early.deleted or early.updated:
            state.in_sync.clear()
        early.deleted.clear()
        early.updated.clear()
        early.journal = None
        return problems

    def claimed_elsewhere(self, source: Source) -> tuple[dict[ObjectKey, str], list[prune.UnknownSource]]:
        """The objects the other sources this process serves desire, by key, with the source's name: what
        each applied last and what its remote revision renders now (an object moved to a source whose pass
        has not run yet). A source whose remote revision cannot be fetched or rendered now is not known:
        its last known claims (its inventory, its last successful render) count, and it is returned as
        unknown, so prune defers what its grant covers. A source another shard (process) serves is not
        known here. A held source (``hold``: not running) claims what its last inventory lists. Both
        prunes use it: a pass's and a deleted Source object's (its finalizer)."""
        claimed: dict[ObjectKey, str] = {}
        unknown: list[prune.UnknownSource] = []
        for other in self.sources():
            if other.name == source.name or not self.owns(other):
                continue
            state = self.state[other.name]
            now, why_unknown = self._desired_now(other)
            keys = [key_of(ref_of(obj)) for obj in (*state.desired, *now)]
            if why_unknown:
                last = inventory.read(self.client, self.settings.namespace, other.name)
                keys += [key_of(r) for r in (last.objects if last else ())] + list(state.rendered)
                unknown.append(prune.UnknownSource(other.name, why_unknown,
                                                   authority.covers(authority.grant_of(
                                                       other, self.settings.namespace))))
            claimed.update(dict.fromkeys(keys, other.name))
        for held in self.held:  # not running: what it applied last is all it can hold
            last = inventory.read(self.client, self.settings.namespace, held)
            if held != source.name and last is not None:
                claimed.update(dict.fromkeys((key_of(r) for r in (*last.objects, *last.creating)), held))
        return claimed, unknown

    def _refuse_conflicts(self, source: Source, objects: Iterable[Mapping[str, Any]]) -> None:
        """Refuse the revision when it names an object another source this process serves owns (its owner
        label) and still desires, or whose desired objects are not known now (a held one too): the object
        keeps its owner (as with Flux; Argo CD's SharedResourceWarning), instead of flipping between two
        sources on every pass. An object its owner's remote revision no longer renders is moving here, and
        is taken over. Only objects this source does not own already are read, so a steady pass costs
        nothing more."""
        objects = list(objects)
        others = {owner_value(o.name): o for o in (*self.sources(), *(h for h, _ in self.held.values()))
                  if o.name != source.name and self.owns(o)}
        if not others:
            return
        mine = self._live(source, objects)
        conflicts: list[str] = []
        for obj in objects:
            ref = ref_of(obj)
            if key_of(ref) in mine:
                continue
            live = _existing(self._as(source), ref) or {}
            owner = others.get(str(((live.get("metadata") or {}).get("labels") or {}).get(OWNER_LABEL, "")))
            if owner is None:
                continue
            if owner.name in self.held:
                conflicts.append(f"{ref} is owned by source {owner.name}, which is not known now "
                                 f"({self.held[owner.name][1]})")
                continue
            now, why_unknown = self._desired_now(owner)
            wanted = {key_of(ref_of(o)) for o in (now or self.state[owner.name].desired)}
            if why_unknown:
                conflicts.append(f"{ref} is owned by source {owner.name}, which is not known now "
                                 f"({why_unknown})")
            elif key_of(ref) in wanted:
                conflicts.append(f"{ref} is owned by source {owner.name}, which declares it too")
        if conflicts:
            more = f" and {len(conflicts) - 5} more" if len(conflicts) > 5 else ""
            raise OwnershipConflict(f"source {source.name}: {'; '.join(conflicts[:5])}{more}; refusing the "
                                    "revision (nothing applied; remove the object from the other source to "
                                    "move it here)")

    def _refuse_takeover(self, source: Source, objects: Sequence[Mapping[str, Any]]) -> frozenset[ObjectKey]:
        """Refuse the revision when it names an object the cluster has that no handoff source created and
        the source may not adopt (:mod:`adoption`): the forced apply would take the operator's object over
        (a ResourceQuota loosened, a RoleBinding re-pointed) and prune would later delete it. The guards
        judge what the repo wrote, not the live object it would merge into. Returns the objects adopted.
        Only objects this source does not own already are read, so a steady pass costs nothing more."""
        mine = self._live(source, objects)
        known = self._known_sources()
        refused: list[str] = []
        taken: set[ObjectKey] = set()
        for obj in objects:
            ref = ref_of(obj)
            live = None if key_of(ref) in mine else _existing(self._as(source), ref)
            why = self._why_not_taken(source, ref, live, known)
            if why:
                refused.append(f"{ref} {why}")
            elif why == "":
                taken.add(key_of(ref))
        if refused:
            more = f" and {len(refused) - 5} more" if len(refused) > 5 else ""
            raise OwnershipConflict(f"source {source.name}: {'; '.join(refused[:5])}{more}; refusing the "
                                    "revision (nothing applied; rename it, or delete the live one to hand it "
                                    "to this source)")
        return frozenset(taken)

    def _desired_now(self, source: Source) -> tuple[list[dict[str, Any]], str]:
        """What ``source``'s remote revision renders, if that is not the one it applied; with why it is not
        known ("" when it is): its revision cannot be fetched, or does not render or pass the guards."""
        state = self.state[source.name]
        try:
            revision = self.git[source.name].remote_revision()
        except GitError:
            return [], "it cannot be fetched"
        if revision == state.applied_revision:
            return [], ""
        try:
            checkout = self.git[source.name].checkout(revision)
            objects = self._prepare(source, self.renderer(source, checkout).objects)
        except GitError:
            return [], f"its revision {revision[:12]} cannot be fetched or verified"
        except (RenderError, ReconcileError):
            return [], f"its revision {revision[:12]} does not render or is refused"
        state.rendered = frozenset(key_of(ref_of(o)) for o in objects)
        return objects, ""

    def _before_write(self, source: Source, obj: Mapping[str, Any],
                      live: Mapping[ObjectKey, Mapping[str, Any]]) -> Mapping[str, Any] | None:
        """The live object ``obj`` will change, before the pass (its roll-back snapshot); None if new."""
        ref = ref_of(obj)
        if obj.get("kind") == "CustomResourceDefinition":
            return self.client.get(ref.api_version, ref.kind, ref.name)
        return live.get(key_of(ref)) or _existing(self._as(source), ref)

    def _left_by_unfinished(self, source: Source, creating: Iterable[ObjectRef]) -> list[Applied]:
        """The objects an unfinished pass (killed mid-apply) journalled as creating that exist now, labelled
        as this source's: that pass created them, so a roll-back deletes them."""
        out = []
        for ref in creating:
            live = _existing(self._as(source), ref)
            if live and owned_by(live, source.name):
                out.append(Applied(ref, live))
        return out

    def _write(self, source: Source, obj: Mapping[str, Any], live: Mapping[ObjectKey, Mapping[str, Any]],
               present: Mapping[ObjectKey, Mapping[str, Any] | None], undo: rollback.Undo, *,
               adopted: Collection[ObjectKey] = ()) -> Applied:
        """Apply ``obj``, noting in ``undo`` how to put back what it changes; one in ``adopted`` is marked
        so first (a kill between the two leaves it marked, not yet changed)."""
        ref = ref_of(obj)
        key = key_of(ref)
        existed = present.get(key)
        if key in adopted:
            self._as(source).apply(adoption.marker(ref), manager=adoption.ADOPTION_MANAGER)
        applied = self._apply(self._as(source), obj, live)
        if existed is None:
            undo.created.append(applied)
        elif key in undo.created_before:
            pass  # an unfinished pass created it: the roll-back deletes it
        elif obj.get("kind") == "CustomResourceDefinition":
            undo.crds.append(dict(existed))
        else:
            undo.updated.append(rollback.Updated(key, ref, existed))
        return applied

    def _rejected(self, source: Source, state: _SourceState, revision: str, undo: rollback.Undo,
                  e: ReconcileError, *, early: _AdmissionFirst) -> status.PassResult:
        """The API server rejected an object of ``revision`` while it was being applied: put back what this
        pass changed and keep the previous revision. The admission objects ``_admission_first`` changed go
        back with the pass's other admission changes, before the rest (``_put_back``); those it deleted are
        re-created last."""
        old = self._previous_desired(source, state, undo.previous)
        undo.updated = [u for u in undo.updated if u.key not in early.keys] + early.updated
        early.updated = []
        left = self._put_back(source, state, undo, old)
        left += self._undo_admission_first(source, state, early, relist=False)
        kept = f" (keeping revision {state.last_good[:12]})" if state.last_good else ""
        return self._result(source, state, status.FAILED,
                            f"revision {revision[:12]} not applied{kept}: {e}{_incomplete(left)}",
                            revision, error=error_kind(e))

    def _abandon_unfinished(self, source: Source, state: _SourceState) -> list[rollback.Problem]:
        """A pass killed mid-apply left a pending inventory and the next revision is not applied: delete
        what that pass created, give the previous revision's objects its manifests again, and list the
        objects listed before it."""
        previous = inventory.read(self.client, self.settings.namespace, source.name)
        if previous is None or not previous.pending:
            return []
        old = self._previous_desired(source, state, previous)
        undo = rollback.Undo(previous, created=self._left_by_unfinished(source, previous.creating))
        undo.updated = [rollback.Updated(key_of(ref_of(o)), ref_of(o), {}) for o in old]
        return self._put_back(source, state, undo, old)

    def _put_back(self, source: Source, state: _SourceState, undo: rollback.Undo,
                  previous_objects: Iterable[Mapping[str, Any]]) -> list[rollback.Problem]:
        """Undo a pass: updated objects get the previous revision's manifests (adopted ones their pre-pass
        content), changed CRDs their pre-pass spec, created objects are deleted by uid; then the inventory
        lists again what it listed before. The steps that could not be done are returned.

        The pass's admission objects go first (created ones deleted, changed ones put back): the previous
        content was admitted without the revision's versions, which may refuse it. A later step one of them
        still refuses is tried again for at most ``_ADMISSION_LAG_SECONDS`` (the API server's policy cache
        lags the change by about a second)."""
        client, previous = self._as(source), undo.previous
        old = {key_of(ref_of(o)): o for o in previous_objects}
        created, backwards = undo.created[::-1], undo.updated[::-1]
        admission_created = [a for a in created if is_admission(a.ref)]
        admission_updated = [u for u in backwards if is_admission(u.ref)]
        # the revision's versions of them: what a denial they still make names
        lagging = rollback.admission_names([*(a.result for a in admission_created),
                                            *(_existing(client, u.ref) for u in admission_updated)])

        def restore(u: rollback.Updated) -> rollback.Problem | None:
            return rollback.restore(client, u, _at_served_version(client, old.get(u.key), u.ref), source.name)

        left = [p for a in admission_created if (p := rollback.remove(client, a)) is not None]
        problems = [p for u in admission_updated if (p := restore(u)) is not None]
        lag = functools.partial(rollback.past_lag, names=lagging,
                                deadline=time.monotonic() + _ADMISSION_LAG_SECONDS)
        # created objects before the other restores: a re-created one (``rollback.restore``) may need the
        # quota they hold
        left += [p for a in created if not is_admission(a.ref)
                 if (p := lag(a.ref, functools.partial(rollback.remove, client, a))) is not None]
        # then what the other restores need: the CRDs (serving the versions the previous manifests name
        # again) and the Namespaces
        problems += [p for crd in undo.crds if (p := rollback.restore_crd(client, crd)) is not None]
        _wait_served(client, (m for u in undo.updated if (m := old.get(u.key)) is not None),
                     {str((crd.get("spec") or {}).get("group")) for crd in undo.crds})
        rest = [u for u in backwards if u.ref.kind == "Namespace"] + \
            [u for u in backwards if u.ref.kind != "Namespace" and not is_admission(u.ref)]
        refused = [(u, p) for u in rest if (p := lag(u.ref, functools.partial(restore, u))) is not None]
        problems += self._restore_around(client, admission_updated, refused, restore, old)
        if not left and not problems:  # every object is back, so none is stored at a version the pass added
            problems = [p for crd in undo.crds if (p := rollback.finish_crd(client, crd)) is not None]
        base = self._scoped(previous.listed_before()) if previous else ()
        inventory.write(self.client, self.settings.namespace, source.name,
                        inventory.Inventory(previous.revision if previous else "",
                                            unique_by_key((*base, *(p.ref for p in left)))))
        state.in_sync.clear()
        return left + problems

    def _restore_around(self, client: KubeClient, admission: Sequence[rollback.Updated],
                        refused: Sequence[tuple[rollback.Updated, rollback.Problem]],
                        restore: Callable[[rollback.Updated], rollback.Problem | None],
                        old: Mapping[ObjectKey, Mapping[str, Any]]) -> list[rollback.Problem]:
        """The restores still ``refused`` past the lag by an admission object put back before them: its
        previous version refuses the previous content itself (a webhook failing closed that the revision
        had fixed). It is deleted too, those restores are tried again, and it is re-created last."""
        blocking = [u for u in admission if any(rollback.refused_by(p.why, rollback.admission_names(
            [old.get(u.key), u.snapshot])) for _, p in refused)]
        if not blocking:
            return [p for _, p in refused]
        problems: list[rollback.Problem] = []
        for u in blocking:
            try:
                if live := _existing(client, u.ref):
                    rollback.delete_by_uid(client, u.ref, _uid(live))
            except KubeUnavailable:
                raise
            except KubeError as e:
                problems.append(rollback.Problem(u.ref, f"taking it out of the way: {e}"))
        names = rollback.admission_names([m for u in blocking for m in (old.get(u.key), u.snapshot)])
        lag = functools.partial(rollback.past_lag, names=names,
                                deadline=time.monotonic() + _ADMISSION_LAG_SECONDS)
        problems += [p for u, _ in refused if (p := lag(u.ref, functools.partial(restore, u))) is not None]
        return problems + [p for u in blocking
                           if (p := rollback.recreate(client, u.ref, old.get(u.key), u.snapshot)) is not None]

    def _previous_desired(self, source: Source, state: _SourceState,
                          previous: inventory.Inventory | None) -> list[dict[str, Any]]:
        """The manifests of the revision live before this pass: in memory, else rendered again from the
        inventory's revision (after a restart); none when that cannot be rendered."""
        if state.desired or previous is None or not previous.revision:
            return state.desired
        secrets = self._secrets.get(source.name, {})
        try:
            checkout = self.git[source.name].checkout(previous.revision)
            return self._prepare(source, self.renderer(source, checkout).objects)
        except (GitError, RenderError, ReconcileError):
            return []
        finally:
            self._secrets[source.name] = {**self._secrets.get(source.name, {}), **secrets}

    def _as(self, source: Source) -> KubeClient:
        """The client for a source's objects: impersonating its ServiceAccount when the operator set one,
        so the cluster's RBAC decides what it may touch."""
        return self.clients.get(source.name, self.client)

    def _apply(self, client: KubeClient, obj: Mapping[str, Any],
               live: Mapping[ObjectKey, Mapping[str, Any]]) -> Applied:
        applied = apply_one(client, obj, live.get(key_of(ref_of(obj))))
        self._applies += 1
        if self._applies == _PAUSE_AFTER_APPLIES:
            _pause_for_fault_injection()
        return applied

    def _drift_pass(self, source: Source, state: _SourceState) -> tuple[tuple[Drift, ...], dict[str, int]]:
        """Drift of the live objects from the applied revision (reverted when asked), and their health:
        a rollout that was progressing when the revision was applied is seen to finish here."""
        live = self._live(source, state.desired, shared=True)
        healthy = _health_counts((ref_of(obj), current) for obj in state.desired
                                 if (current := live.get(key_of(ref_of(obj)))) is not None)
        for obj in state.desired:  # what the cluster said of each Job when it was last there
            if (key := key_of(ref_of(obj))) in live:
                if removed_when_finished(obj, live[key]):
                    state.self_removing.add(key)
                else:
                    state.self_removing.discard(key)

        def finished_itself(obj: Mapping[str, Any]) -> bool:
            key = key_of(ref_of(obj))
            return key not in live and (removed_when_finished(obj) or key in state.self_removing)

        # a Job its own TTL removed has finished (Flux's health checks read a missing TTL Job so too)
        finished = sum(1 for obj in state.desired if finished_itself(obj))
        if finished:
            healthy[HEALTHY] = healthy.get(HEALTHY, 0) + finished
        revert = source.self_heal and source.drift_mode == "revert" and self.can_write()
        found: list[Drift] = []
        for obj in state.desired:
            ref = ref_of(obj)
            key = key_of(ref)
            current = live.get(key)
            if drift_ignored(obj) or drift_ignored(current):
                continue
            if current is None and finished_itself(obj):
                continue
            if current is not None and state.in_sync.get(key) == _rv(current):
                continue
            drift = compare(ref, self._as(source).apply(obj, dry_run=True), current, FOREIGN_MANAGERS) \
                if current is not None else Drift(ref=ref, fields=(), missing=True,
                                                  not_reverted=self._held_by_another(source, ref))
            if drift is None:
                state.in_sync[key] = _rv(current)
                continue
            found.append(drift)
            if revert and not drift.not_reverted:
                state.in_sync[key] = _rv(apply_one(self._as(source), obj, current).result)
        return tuple(found), healthy

    def _known_sources(self) -> dict[str, Source]:
        """Every source this reconciler knows (served, on any shard, or held), by owner label value."""
        return {owner_value(o.name): o for o in (*self.settings.sources, *self.sources(),
                                                 *(h for h, _ in self.held.values()))}

    def _why_not_taken(self, source: Source, ref: ObjectRef, live: Mapping[str, Any] | None,
                       known: Mapping[str, Source]) -> str | None:
        """What writing ``ref`` would do to ``live``, the object holding its name: None when it is the
        source's to write (there is none, or it is the source's own), "" when the source adopts it, else why
        it may not take it (another shard's source owns it, or no source created it: :mod:`adoption`)."""
        owner = known.get(owner_label(live))
        if owner is not None and owner.name != source.name and not self.owns(owner) \
                and not adoption.adopted(live):
            return f"is owned by source {owner.name}, which another shard serves"
        if not adoption.foreign(live, source.name):
            return None
        adopt = authority.grant_of(source, self.settings.namespace).authority.adopt
        return adoption.why_not_adopted(ref, live or {}, adopt=adopt, own_namespace=source.namespace)

    def _held_by_another(self, source: Source, ref: ObjectRef) -> str:
        """Why a missing object's name is not the source's to take back ("" when it is): an object it may
        not take holds it now (the operator re-created it, or took the owner label off)."""
        why = self._why_not_taken(source, ref, _existing(self._as(source), ref), self._known_sources())
        return f"not reverted: {ref} {why}" if why else ""

    # ---- bookkeeping -------------------------------------------------------------------------------
    def _record(self, source: Source, state: _SourceState, r: status.PassResult,
                drifted: tuple[ObjectRef, ...]) -> None:
        """Count, log and publish the (masked) pass result ``r``; ``drifted``: its drift's real objects."""
        m = self.metrics
        m.duration.labels(source.name).observe(r.duration)
        m.applied.labels(source.name).inc(r.applied)
        m.pruned.labels(source.name).inc(len(r.pruned))
        m.drifted.labels(source.name).inc(len(r.drift))
        if r.ok:
            state.failures = 0
            m.last_success.labels(source.name).set(r.finished)
            state.next_due = time.monotonic() + source.interval
        else:
            m.errors.labels(source.name, r.error_kind or "unknown").inc()
            state.failures += 1
            delay = _pass_backoff(source).backoff(state.failures)
            state.next_due = time.monotonic() + delay
            then = f"retrying in {delay:.0f}s" if self.retry_later(r.error_kind) else "giving up"
            r = status.PassResult(**{**r.__dict__,
                                     "message": f"{r.message} (attempt {state.failures}, {then})"})
        log.info("pass finished", extra={"source": source.name, "result": r.result, "detail": r.message,
                                         "revision": r.attempted_revision, "applied": r.applied,
                                         "pruned": len(r.pruned), "drifted": len(r.drift),
                                         "seconds": round(r.duration, 3)})
        for d in r.drift:  # masked already (``masked_result``): a name or path may carry a Secret's value
            fields = [f"{f.path} (by {f.manager or 'unknown'})" for f in d.fields]
            log.warning("drift", extra={"source": source.name, "object": str(d.ref),
                                        "missing": d.missing, "fields": fields})
        if self.can_write():
            self._publish(source, r, drifted)
            for hook in self.after_pass:
                try:
                    hook(source, r)
                except HandoffError as e:
                    log.warning("cannot write status", extra={"source": source.name, "error": str(e)})

    def _publish(self, source: Source, r: status.PassResult, drifted: tuple[ObjectRef, ...]) -> None:
        ns = self.settings.namespace
        try:
            self.status_writer.write(self.client, ns, r, self.rules)
            about = ObjectRef("v1", "ConfigMap", status.status_name(source.name), ns)
            if not r.ok:
                status.event(self.client, ns, about, "ReconcileFailed", r.message, warning=True)
            elif r.applied and not r.drift:
                status.event(self.client, ns, about, "ReconcileSucceeded", r.message)
            for d, about_drift in zip(r.drift[: status.MAX_LIST], drifted, strict=False):
                fields = ", ".join(f"{f.path} by {f.manager or 'unknown'}" for f in d.fields[:5]) or "missing"
                verb = "reverted" if r.drift_reverted else "detected"
                reason = "DriftReverted" if r.drift_reverted else "DriftDetected"
                status.event(self.client, ns, about_drift, reason, f"drift {verb}: {fields}", warning=True)
        except KubeError as e:
            log.warning("cannot write status", extra={"source": source.name, "error": str(e)})

    # ---- driving -----------------------------------------------------------------------------------
    def sources(self) -> tuple[Source, ...]:
        """The sources this reconciler serves now (the set may change while it runs)."""
        return tuple(self._sources.values())

    def set_source(self, source: Source, *, credentials_changed: bool = False) -> None:
        """Serve ``source`` from now on, or its new spec: a changed spec is due at once; what was applied
        (the inventory, the revision) carries over under the same name. ``credentials_changed``: the
        files its credentials name were rewritten (a Secret changed), so git reads them again. Call on
        the loop's thread."""
        self.held.pop(source.name, None)
        old = self._sources.get(source.name)
        if old == source and not credentials_changed:
            return
        self._sources[source.name] = source
        # names with "/" (Source objects) live apart from config-file names, which have none
        self.git[source.name] = self.fetches.get(source, credentials_changed=credentials_changed)
        self.clients.pop(source.name, None)
        if source.service_account:
            self.clients[source.name] = self.client.impersonating(authority.service_account_user(source),
                                                                  authority.service_account_groups(source))
        state = self.state.setdefault(source.name, _SourceState())
        if old is not None and old != source:  # re-render at the same revision: path or renderer changed
            state.recorded_revision = state.last_good
            state.applied_revision, state.next_due, state.respec = "", 0.0, True

    def drop_source(self, name: str) -> None:
        """Stop serving source ``name`` (its objects stay as they are). Call on the loop's thread."""
        for table in (self._sources, self.held, self.git, self.clients, self.state, self._secrets):
            table.pop(name, None)
        self.fetches.release(name)
        self.status_writer.forget(name)
        self.reporter.forget(name)  # it no longer decides, nor is waited for in, its env's commit status
        self.metrics.forget(name)

    def hold(self, source: Source, why: str) -> None:
        """Stop serving ``source`` but keep its objects its own: an owner not known now (``why``, e.g. "it is
        suspended"), so no other source takes them over, and what its last inventory lists no other
        source's prune deletes. ``set_source`` or ``drop_source`` ends the hold. Call on the loop's
        thread."""
        self.drop_source(source.name)
        self.held[source.name] = (source, why)

    def hand(self, work: Callable[[], None]) -> None:
        """Queue ``work`` for the loop's thread (from a watch thread) and wake the loop for it."""
        self.inbox.put(work)
        self.wake.set()

    def hand_last(self, work: Callable[[], None]) -> None:
        """Queue ``work`` to run in the next drain after everything queued before it is done (a deleted
        Source's prune, once the changes listed with it have made their sources known). Call on the
        loop's thread."""
        self._last.append(work)

    def drain(self) -> None:
        """Run the work other threads handed over (source changes, deletions), then what was queued to run
        last (``hand_last``), then, when this replica has gained leadership since the last drain, the
        ``on_leading`` hooks."""
        while True:
            try:
                work = self.inbox.get_nowait()
            except queue.Empty:
                if not self._last:
                    break
                work = self._last.popleft()
            work()
        leading = self.can_write()
        if leading and not self._was_leading:
            for hook in self.on_leading:
                hook()
        self._was_leading = leading

    def request_sync(self, name: str) -> bool:
        """Make source ``name`` due now (a sync-now annotation or a webhook); False if it is unknown.
        The running loop picks it up at its next tick."""
        state = self.state.get(name)
        if state is None:
            return False
        state.next_due = 0.0
        self.wake.set()
        return True

    def due(self) -> list[Source]:
        now = time.monotonic()
        return [s for s in self.sources() if self.owns(s) and self.state[s.name].next_due <= now]

    def run_once(self, attempts: int = 1) -> list[status.PassResult]:
        """One pass per source; a pass failing for a transient reason (git or the API server
        unreachable) is tried again after its backoff, up to ``attempts`` passes in all."""
        with self.round():
            return self._run_once(attempts)

    def _run_once(self, attempts: int) -> list[status.PassResult]:
        results = []
        for source in (s for s in self.sources() if self.owns(s)):
            for attempt in range(1, max(attempts, 1) + 1):
                self.retried_kinds = TRANSIENT if attempt < attempts else frozenset()
                result = self.reconcile(source)
                if result.ok or result.error_kind not in TRANSIENT or attempt == attempts:
                    break
                time.sleep(max(self.state[source.name].next_due - time.monotonic(), 0.0))
            results.append(result)
        self.retried_kinds = None
        return results

    @contextlib.contextmanager
    def round(self) -> Iterator[None]:
        """One pass over the due sources: each shared clone asks its remote once, the drift checks share
        one list per kind and namespace."""
        with self.fetches.round(), self.lists.round():
            yield

    def _run_due(self, stop: threading.Event) -> None:
        """One round: a pass for each due source, each shared clone asking its remote once."""
        with self.round():
            for source in self.due():
                if stop.is_set() or not self.can_write():
                    break
                self.reconcile(source)

    def run(self, stop: threading.Event, tick: float = 0.5) -> None:
        while not stop.is_set():
            self.wake.clear()  # work handed over from here on wakes the wait below
            self.metrics.leader.set(1 if self.can_write() and self.elector is not None else 0)
            self.drain()
            if self.can_write():
                self._run_due(stop)
            self.metrics.ready.set()
            if not stop.is_set():
                self.wake.wait(tick)  # the next tick, or sooner when work arrives; a stop within a tick
