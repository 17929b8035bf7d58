"""Deployment results back on Git's side of the wall: after each pass, the outcome for the revision it
applied or evaluated (applying, healthy, degraded, failed) as a commit status on the config repo's
commit, per environment. Sources that share a context (two clusters or two paths of one env) are
combined, the worst state winning, and a source known to share it that has not reported on the commit
yet counts as applying; a status is posted only when the combined state, or the source it names,
changes, with the narrow token of ``status.tokenFile`` (read again whenever it changes); the reconciler
never calls a forge for anything else (no ``forge/``)."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
import shutil
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from prometheus_client import Counter, Gauge

from handoff.commitstatus import (
    APPLYING,
    DEGRADED,
    FAILED,
    HASHED,
    HEALTHY,
    MAX_CONTEXT,
    NOTES_REF,
    WORST_FIRST,
    BackendSettings,
    DeployState,
    StatusBackend,
    fitted,
    make_backend,
    read_key,
)
from handoff.errors import HandoffError
from handoff.git.command import GitAuth
from handoff.git.notes import GitNotes
from handoff.reconciler import health, status
from handoff.reconciler.config import Source, StatusSettings
from handoff.reconciler.metrics import Metrics
from handoff.reconciler.source import ssh_command

log = logging.getLogger("handoff.reconciler")
TRANSIENT = frozenset({"git", "kube-unavailable"})  # the revision's fate is unknown: say nothing
REMEMBERED = 1000  # (commit, context) pairs kept to tell a change from a repeat


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
    """The source's context, at most ``MAX_CONTEXT`` characters (GitHub and GitLab refuse longer): a long
    source name is cut (``commitstatus.fitted``) where ``{source}`` stands, so a reader's
    ``--context 'handoff/{env}/{source}'`` still matches it; any other long context is cut at its end,
    as readers cut the context they look for (``StatusContext.of``)."""
    env = source.env or source.name
    slots = settings.context.count("{source}")
    name = source.name
    if slots:
        room = (MAX_CONTEXT - len(settings.context.format(env=env, source=""))) // slots
        name = fitted(name, room) if room >= HASHED else name
    return fitted(settings.context.format(env=env, source=name))


@dataclass(frozen=True)
class Outcome:
    """What one source said about one (commit, context)."""

    source: str
    state: DeployState
    description: str


NOT_YET = "not applied yet"


def combined(outcomes: Mapping[str, Outcome]) -> Outcome:
    """The worst of the outcomes of the sources sharing a (commit, context); its description names the
    source when several share it, so a reader knows which cluster or path to look at."""
    worst = min(outcomes.values(), key=lambda o: (WORST_FIRST.index(o.state), o.source))
    if len(outcomes) == 1:
        return worst
    return Outcome(worst.source, worst.state, f"{worst.source}: {worst.description}")


def is_news(before: Outcome | None, now: Outcome) -> bool:
    """A change of state, or of the source a non-healthy state names (its description and targetUrl
    point the reader there); a description alone also counts retries ("attempt 3"), so it is not."""
    if before is None or before.state != now.state:
        return True
    return now.state != HEALTHY and before.source != now.source


_SCP_LIKE = re.compile(r"^(?:[^@/:]+@)?(?P<host>[^/:]+):(?P<path>(?!//).*)$")  # git@host:org/repo.git
_DEFAULT_PORTS = {"http": 80, "https": 443, "ssh": 22, "git": 9418}


def repository_identity(url: str) -> str:
    """One spelling for every URL git treats as the same remote: scheme and host lower-cased, the
    credentials and a default port dropped, a trailing ``/`` and ``.git`` removed (``http://H/c.git/``,
    ``http://u@h/c`` and ``http://h/c.git`` are one place, so their statuses combine worst-wins)."""
    url = url.strip()
    scp = _SCP_LIKE.match(url) if "://" not in url else None
    if scp:
        host, path, scheme, port = scp["host"].lower(), scp["path"], "ssh", None
    else:
        parts = urllib.parse.urlsplit(url)
        scheme, path = parts.scheme.lower(), parts.path
        host = (parts.hostname or "").lower()
        try:
            port = parts.port
        except ValueError:  # a garbled port: keep the URL's own spelling of it
            port = None
        if port == _DEFAULT_PORTS.get(scheme):
            port = None
    path = path.rstrip("/")
    path = path.removesuffix(".git").rstrip("/")
    authority = f"{host}:{port}" if port else host
    return f"{scheme}://{authority}/{path.lstrip('/')}" if scheme else path


def branch_identity(revision: str) -> str:
    """``refs/heads/main`` and ``main`` name one branch (ls-remote resolves both to the same commit)."""
    return revision.removeprefix("refs/heads/")


@dataclass(frozen=True)
class Target:
    """Where one source's statuses go: the repository (its commits) and the credential that posts there.
    Equal for every spelling of one repository (:func:`repository_identity`; with an API kind, the one
    ``status.project``); ``url`` is the spelling the backend was first built with."""

    repo: str
    ssh_command: str | None  # the source's own ssh key, for a local remote without a token
    url: str = field(compare=False)


@dataclass
class _Built:
    token: str | None  # what the token file held when ``backend`` was built
    key: bytes | None  # and the key file
    backend: StatusBackend


Key = tuple[str, str, str]  # (repository, commit, context)


class StatusReporter:
    """One backend per target repository and credential; what each source last said per commit; which
    sources share each context. Every per-source table is cleared by :meth:`forget`."""

    def __init__(self, settings: StatusSettings | None, workdir: Path, metrics: Metrics) -> None:
        self.settings = settings
        self.workdir = workdir
        self._backends: dict[Target, _Built] = {}
        # (repo, commit, context) -> each source's latest outcome there, and the outcome last posted for it
        self._said: dict[Key, dict[str, Outcome]] = {}
        self._posted: dict[Key, Outcome] = {}
        self._members: dict[str, Source] = {}  # every source that has reported, as it last reported
        self._calls_at: dict[str, tuple[str, int]] = {}  # source -> (revision, backend calls made for it)
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

    # ---- where a source posts ---------------------------------------------------------------------
    def _target(self, source: Source) -> Target:
        """With an API kind every source posts to ``status.project`` at ``status.apiUrl``, whatever the
        spelling of the URL it fetches (ssh or https, another case): that project is the place."""
        assert self.settings is not None
        s = self.settings
        if s.kind != "local":
            return Target(f"{s.kind}:{(s.api_url or '').rstrip('/')}:{s.project}", None, s.url or source.url)
        ssh = ssh_command(source) if not s.token_file else None
        url = s.url or source.url
        return Target(repository_identity(url), ssh, url)

    def _place(self, source: Source) -> tuple[str, str]:
        """(repository, context): where the source's statuses land."""
        assert self.settings is not None
        return self._target(source).repo, context_of(self.settings, source)

    def _group(self, source: Source) -> tuple[str, str, str]:
        """Sources in one group are expected to apply the same commits: one place, one ref."""
        return (*self._place(source), branch_identity(source.revision))

    def _backend(self, source: Source) -> StatusBackend:
        """The backend of ``source``'s target, rebuilt when the token file holds another token (a rotated
        Secret: the old token may be revoked already) or the key file another key (CI verifies with the
        new one, so every status of the target is news again and is signed anew)."""
        assert self.settings is not None
        s = self.settings
        target = self._target(source)
        token = Path(s.token_file).read_text(encoding="utf-8").strip() if s.token_file else None
        key = read_key(Path(s.key_file), key="status.keyFile") if s.key_file else None
        found = self._backends.get(target)
        if found is not None and (found.token, found.key) == (token, key):
            return found.backend
        if found is not None and found.key != key:
            # what was posted there is signed with the old key, which CI no longer accepts: post it again
            self._posted = {k: v for k, v in self._posted.items() if k[0] != target.repo}
        notes = None
        if s.kind == "local":
            auth = GitAuth(s.username, token) if token else None
            notes = GitNotes(target.url, self._notes_dir(target), NOTES_REF, auth=auth,
                             ssh_command=target.ssh_command)
        backend = make_backend(s.kind, BackendSettings(project=s.project, token=token, base_url=s.api_url,
                                                       notes=notes, key=key))
        self._backends[target] = _Built(token, key, backend)
        return backend

    def _notes_dir(self, target: Target) -> Path:
        place = repr((target.repo, target.ssh_command))
        return self.workdir / ".status" / hashlib.sha256(place.encode()).hexdigest()[:16]

    # ---- the hook ---------------------------------------------------------------------------------
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
        before = self._members.get(source.name)
        self._members[source.name] = source
        if before is not None and before != source:
            if self._group(before) != self._group(source):
                self._leave(source.name, before)  # its spec moved it to another repository, env or ref
            self._drop_unused_backends()
        repo, context = self._place(source)
        key = (repo, commit, context)
        outcomes = self._said.pop(key, {})  # re-inserted: the least recently reported pair is forgotten first
        self._said[key] = outcomes
        outcomes[source.name] = Outcome(source.name, state, description)
        if len(self._said) > REMEMBERED:
            self._forget_key(next(iter(self._said)))
        self._post_if_news(key, source)

    def forget(self, name: str) -> None:
        """Source ``name`` is no longer served (deleted, renamed): its outcomes leave every commit it
        reported on, it is no longer waited for, and a context whose combined status changes for it is
        posted again. Never raises, as :meth:`report`."""
        try:
            self._forget_source(name)
        except Exception:  # a bug here must not stop the loop from dropping the source
            log.exception("cannot forget the source's commit statuses", extra={"source": name})

    def _forget_source(self, name: str) -> None:
        gone = self._members.pop(name, None)
        self._calls_at.pop(name, None)
        if self.settings is None or gone is None:
            return
        self._leave(name, gone)
        self._drop_unused_backends()

    def _leave(self, name: str, was: Source) -> None:
        """``name`` no longer reports as ``was`` did: its outcomes leave every place it is no longer in,
        and each (commit, context) of its old place is combined again without it, posted if that is news."""
        now = self._members.get(name)
        stays = self._place(now) if now is not None else None
        old = self._place(was)
        for key in [k for k, said in self._said.items() if (k[0], k[2]) == old or name in said]:
            outcomes = self._said[key]
            if (key[0], key[2]) != stays:
                outcomes.pop(name, None)
            poster = next((self._members[n] for n in outcomes if n in self._members), None)
            if poster is None:
                self._forget_key(key)
            else:
                self._post_if_news(key, poster)

    def _drop_unused_backends(self) -> None:
        """The backends (and local notes clones) of targets no known source posts to any more."""
        used = {self._target(s) for s in self._members.values()}
        for target in [t for t in self._backends if t not in used]:
            del self._backends[target]
            shutil.rmtree(self._notes_dir(target), ignore_errors=True)

    def _forget_key(self, key: Key) -> None:
        self._said.pop(key, None)
        self._posted.pop(key, None)

    def _expected(self, key: Key) -> dict[str, Outcome]:
        """The outcomes of ``key`` plus ``applying`` for every known source of the same place following a
        ref that one of them applied this commit from, that has not reported on it: a commit is healthy
        only once all of them applied it."""
        outcomes = dict(self._said.get(key, {}))
        place = (key[0], key[2])
        refs = {branch_identity(self._members[n].revision) for n in outcomes
                if n in self._members and self._place(self._members[n]) == place}
        for name, member in self._members.items():
            if (name not in outcomes and branch_identity(member.revision) in refs
                    and self._place(member) == place):
                outcomes[name] = Outcome(name, APPLYING, NOT_YET)
        return outcomes

    def _post_if_news(self, key: Key, poster: Source) -> None:
        with contextlib.suppress(HandoffError, OSError):  # _post reports an unreadable token or key
            self._backend(poster)  # first: a rotated key makes what was posted at its target news again
        outcome = combined(self._expected(key))
        if not is_news(self._posted.get(key), outcome):
            return
        if self._post(poster, key[1], key[2], outcome):
            self._posted[key] = outcome

    def _post(self, source: Source, commit: str, context: str, outcome: Outcome) -> bool:
        """Post ``outcome`` through ``source``'s backend; False (logged, counted) when it could not be, so
        the next pass tries again."""
        assert self.settings is not None
        named = self._members.get(outcome.source, source)  # the source the status names, for its env
        try:
            backend = self._backend(source)
            before = backend.calls
            target = self.settings.target_url.format(env=named.env or named.name, source=outcome.source,
                                                     revision=commit)
            try:
                backend.post(commit, context, outcome.state, outcome.description, target)
            finally:
                self._count_calls(source.name, commit, backend.calls - before)
        except (HandoffError, OSError) as e:
            self.failed.labels(source.name).inc()
            log.warning("cannot post the commit status", extra={"source": source.name, "error": str(e)})
            return False
        self.posted.labels(source.name, outcome.state).inc()
        log.info("commit status posted", extra={"source": source.name, "revision": commit,
                                                "state": outcome.state, "context": context})
        return True

    def _count_calls(self, name: str, commit: str, calls: int) -> None:
        revision, made = self._calls_at.get(name, ("", 0))
        made = (made if revision == commit else 0) + calls
        self._calls_at[name] = (commit, made)
        self.api_calls.labels(name).set(made)
