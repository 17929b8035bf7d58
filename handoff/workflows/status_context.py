"""Which commit statuses speak for an environment: the context template the reconciler posts under
(``status.context``), with ``{env}`` filled in and ``{source}`` standing for any source's name. A
sharded reconciler posts one context per source (``handoff/{env}/{source}``); they are read together,
the worst state winning, as the reconciler combines the sources sharing one context, and a source
context the environment carried on its newest older commit with any, missing on the commit read, is a
source that has not applied that commit yet (``applying``), as a source known to a shared context is."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field

from handoff.commitstatus import APPLYING, HEALTHY, WORST_FIRST, CommitStatus, fitted
from handoff.errors import UsageError

NOT_YET = "not applied yet"

PLACEHOLDERS = frozenset({"env", "source"})
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def check_template(template: str) -> str:
    """``template`` itself, or a UsageError naming the placeholder ``--context`` cannot fill."""
    unknown = sorted({name for name in _PLACEHOLDER.findall(template) if name not in PLACEHOLDERS})
    if unknown:
        raise UsageError(f"--context {template!r}: unknown placeholder {{{unknown[0]}}} (known: {{env}}, "
                         "{source})", key="--context")
    return template


@dataclass(frozen=True)
class StatusContext:
    """The contexts of one environment: ``filled`` is the template with ``{env}`` filled in."""

    filled: str

    @classmethod
    def of(cls, template: str, env: str) -> StatusContext:
        """A literal context over ``MAX_CONTEXT`` is cut as the reconciler cuts it (``fitted``); a long
        source name is cut where ``{source}`` stands, which the pattern still matches."""
        filled = check_template(template).replace("{env}", env)
        return cls(filled if "{source}" in filled else fitted(filled))

    @property
    def _pattern(self) -> re.Pattern[str]:
        return re.compile(".+".join(re.escape(part) for part in self.filled.split("{source}")))

    @property
    def namespace(self) -> str:
        """What every status of the environment starts with: ``handoff/dev`` of ``handoff/dev/{source}``."""
        return self.filled.split("{source}")[0].rstrip("/")

    def matching(self, statuses: Mapping[str, CommitStatus]) -> frozenset[str]:
        """The source contexts among ``statuses`` (none without ``{source}``)."""
        if "{source}" not in self.filled:
            return frozenset()
        return frozenset(c for c in statuses if self._pattern.fullmatch(c))

    def pick(self, statuses: Mapping[str, CommitStatus], known: Collection[str] = ()) -> CommitStatus | None:
        """The environment's status among a commit's: the one context, or the worst of every context the
        template matches (its description names that context when several match), each of the ``known``
        source contexts missing there counting as ``applying: not applied yet``."""
        if "{source}" not in self.filled:
            return statuses.get(self.filled)
        found = [s for c, s in statuses.items() if self._pattern.fullmatch(c)]
        if not found:
            return None  # the environment has not reported this commit at all
        found += [CommitStatus(c, APPLYING, NOT_YET) for c in sorted(known)
                  if c not in statuses and self._pattern.fullmatch(c)]
        matched = sorted(found, key=lambda s: (WORST_FIRST.index(s.state), s.context))
        if len(matched) <= 1:
            return matched[0] if matched else None
        worst = matched[0]
        return CommitStatus(worst.context, worst.state, f"{worst.context}: {worst.description}",
                            worst.target_url, worst.updated_at)

    def others(self, statuses: Mapping[str, CommitStatus]) -> list[str]:
        """Contexts of the environment's namespace that the template does not match (``handoff/dev/a``
        when reading ``handoff/dev``): a reconciler reports the environment, under another context."""
        matched = self.pick(statuses)
        return sorted(c for c in statuses
                      if (c == self.namespace or c.startswith(self.namespace + "/"))
                      and (matched is None or c != matched.context)
                      and not ("{source}" in self.filled and self._pattern.fullmatch(c)))


@dataclass
class EnvHistory:
    """One environment's statuses on a branch's recent ``commits`` (newest first), for reading a commit
    against the ones before it. A commit older than the one read is read at most once (its statuses
    rarely change); the commit read itself is the caller's fresh read."""

    read: Callable[[str], Mapping[str, CommitStatus]]  # a commit's statuses (a backend's ``read``)
    context: StatusContext
    commits: Sequence[str]
    _older: dict[str, Mapping[str, CommitStatus]] = field(default_factory=dict)

    def status_at(self, commit: str, statuses: Mapping[str, CommitStatus]) -> CommitStatus | None:
        """``context.pick`` of ``statuses`` (read on ``commit``); a healthy one of source contexts is
        checked against the source contexts of the newest older commit that has any (a source missing
        on ``commit`` has not applied it). Only a healthy pick can change so: a worse state wins anyway."""
        picked = self.context.pick(statuses)
        if picked is None or picked.state != HEALTHY or "{source}" not in self.context.filled:
            return picked
        return self.context.pick(statuses, self.known_before(commit))

    def known_before(self, commit: str) -> frozenset[str]:
        if commit not in self.commits:
            return frozenset()  # outside the window: nothing older is known
        for older in self.commits[self.commits.index(commit) + 1:]:
            if older not in self._older:
                self._older[older] = self.read(older)
            found = self.context.matching(self._older[older])
            if found:
                return found
        return frozenset()
