"""Deployment results back on Git's side of the wall: after each pass, the outcome for the revision it
applied or evaluated (applying, healthy, degraded, failed) as a commit status on the config repo's
commit, per environment. Sources that share a context (two clusters or two paths of one env) are
combined, the worst state winning; a state is posted only when the combined state of a (commit, context)
changes, with the narrow token of ``status.tokenFile``; the reconciler never calls a forge for anything
else (no ``forge/``)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from prometheus_client import Counter, Gauge

from handoff.commitstatus import (
    APPLYING,
    DEGRADED,
    FAILED,
    HEALTHY,
    NOTES_REF,
    BackendSettings,
    DeployState,
    StatusBackend,
    make_backend,
    read_key,
)
from handoff.errors import HandoffError
from handoff.git.command import GitAuth
from handoff.git.notes import GitNotes
from handoff.reconciler import health, status
from handoff.reconciler.config import Source, StatusSettings
from handoff.reconciler.metrics import Metrics
from handoff.reconciler.source import git_env

log = logging.getLogger("handoff.reconciler")
TRANSIENT = frozenset({"git", "kube-unavailable"})  # the revision's fate is unknown: say nothing
REMEMBERED = 1000  # (commit, context) pairs kept to tell a change from a repeat
WORST_FIRST = (FAILED, DEGRADED, APPLYING, HEALTHY)


def deploy_state(result: status.PassResult) -> tuple[str, DeployState, str] | None:
    """(commit, state, description) a pass says, or None when it says nothing new about a revision."""
    if result.error_kind in TRANSIENT:
        return None
    not_applied = result.attempted_revision and result.attempted_revision != result.applied_revision
    if not result.ok and not_applied:
        return result.attempted_revision, FAILED, result.message
    commit = result.applied_revision
    counts: Mapping[str, int] = result.health
    if not commit or not counts:
        return None  # no health this pass (e.g. a drift-only pass): the last state stands
    if counts.get(health.DEGRADED):
        return commit, DEGRADED, f"{counts[health.DEGRADED]} object(s) degraded"
    if counts.get(health.SUSPENDED):
        # a paused rollout does not finish by itself: "applying" would hold `handoff wait` until its timeout
        return commit, DEGRADED, f"{counts[health.SUSPENDED]} object(s) paused mid-rollout"
    if counts.get(health.PROGRESSING):
        return commit, APPLYING, f"{counts[health.PROGRESSING]} object(s) rolling out"
    return commit, HEALTHY, f"{sum(counts.values())} object(s) healthy"


def context_of(settings: StatusSettings, source: Source) -> str:
    return settings.context.format(env=source.env or source.name, source=source.name)


@dataclass(frozen=True)
class Outcome:
    """What one source said about one (commit, context)."""

    source: str
    state: DeployState
    description: str


def combined(outcomes: Mapping[str, Outcome]) -> Outcome:
    """The worst of the outcomes of the sources sharing a (commit, context); its description names the
    source when several share it, so a reader knows which cluster or path to look at."""
    worst = min(outcomes.values(), key=lambda o: (WORST_FIRST.index(o.state), o.source))
    if len(outcomes) == 1:
        return worst
    return Outcome(worst.source, worst.state, f"{worst.source}: {worst.description}")


class StatusReporter:
    """One backend per source (the local one pushes to each source's own remote)."""

    def __init__(self, settings: StatusSettings | None, workdir: Path, metrics: Metrics) -> None:
        self.settings = settings
        self.workdir = workdir
        self._backends: dict[str, StatusBackend] = {}
        # (commit, context) -> each source's latest outcome there, and the state last posted for it
        self._said: dict[tuple[str, str], dict[str, Outcome]] = {}
        self._posted: dict[tuple[str, str], DeployState] = {}
        self._calls_at: dict[str, tuple[str, int]] = {}  # source -> (revision, backend calls when it began)
        r = metrics.registry
        self.posted = metrics.per_source(Counter(
            "handoff_commit_status_posts_total", "Commit statuses posted", ["source", "state"], registry=r),
            "state")
        self.failed = metrics.per_source(Counter(
            "handoff_commit_status_errors_total", "Commit statuses that could not be posted", ["source"],
            registry=r))
        self.api_calls = metrics.per_source(Gauge(
            "handoff_commit_status_api_calls",
            "Forge API calls (or git round trips) made for the commit statuses of the revision last reported",
            ["source"], registry=r))

    def _backend(self, source: Source) -> StatusBackend:
        found = self._backends.get(source.name)
        if found is not None:
            return found
        assert self.settings is not None
        s = self.settings
        token = Path(s.token_file).read_text(encoding="utf-8").strip() if s.token_file else None
        notes = None
        if s.kind == "local":
            auth = GitAuth(s.username, token) if token else None
            env_ssh = git_env(source).get("GIT_SSH_COMMAND") if auth is None else None
            notes = GitNotes(s.url or source.url, self.workdir / ".status" / source.name, NOTES_REF,
                             auth=auth, ssh_command=env_ssh)
        key = read_key(Path(s.key_file), key="status.keyFile") if s.key_file else None
        backend = make_backend(s.kind, BackendSettings(project=s.project, token=token, base_url=s.api_url,
                                                       notes=notes, key=key))
        self._backends[source.name] = backend
        return backend

    def report(self, source: Source, result: status.PassResult) -> None:
        """The after-pass hook: never raises, whatever goes wrong (a status is an extra, not the pass)."""
        try:
            self._report(source, result)
        except Exception:  # a bug here must not end the pass: logged with its trace, the pass goes on
            self.failed.labels(source.name).inc()
            log.exception("cannot post the commit status", extra={"source": source.name})

    def _report(self, source: Source, result: status.PassResult) -> None:
        if self.settings is None:
            return
        said = deploy_state(result)
        if said is None:
            return
        commit, state, description = said
        key = (commit, context_of(self.settings, source))
        outcomes = self._said.pop(key, {})  # re-inserted: the least recently reported pair is forgotten first
        self._said[key] = outcomes
        outcomes[source.name] = Outcome(source.name, state, description)
        if len(self._said) > REMEMBERED:
            self._forget(next(iter(self._said)))
        outcome = combined(outcomes)
        if self._posted.get(key) == outcome.state:
            return  # only a change of state is news: a description also counts retries ("attempt 3")
        if self._post(source, commit, key[1], outcome):
            self._posted[key] = outcome.state

    def _forget(self, key: tuple[str, str]) -> None:
        self._said.pop(key, None)
        self._posted.pop(key, None)

    def _post(self, source: Source, commit: str, context: str, outcome: Outcome) -> bool:
        """Post ``outcome`` through ``source``'s backend; False (logged, counted) when it could not be, so
        the next pass tries again."""
        assert self.settings is not None
        try:
            backend = self._backend(source)
            revision, before = self._calls_at.get(source.name, ("", 0))
            if revision != commit:
                self._calls_at[source.name] = (commit, backend.calls)
                before = backend.calls
            target = self.settings.target_url.format(env=source.env or source.name, source=outcome.source,
                                                     revision=commit)
            backend.post(commit, context, outcome.state, outcome.description, target)
        except (HandoffError, OSError) as e:
            self.failed.labels(source.name).inc()
            log.warning("cannot post the commit status", extra={"source": source.name, "error": str(e)})
            return False
        self.posted.labels(source.name, outcome.state).inc()
        self.api_calls.labels(source.name).set(backend.calls - before)
        log.info("commit status posted", extra={"source": source.name, "revision": commit,
                                                "state": outcome.state, "context": context})
        return True
