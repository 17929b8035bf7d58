"""Which commit statuses speak for an environment: the context template the reconciler posts under
(``status.context``), with ``{env}`` filled in and ``{source}`` standing for any source's name. A
sharded reconciler posts one context per source (``handoff/{env}/{source}``); they are read together,
the worst state winning, as the reconciler combines the sources sharing one context."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from handoff.commitstatus import WORST_FIRST, CommitStatus
from handoff.errors import UsageError

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
        return cls(check_template(template).replace("{env}", env))

    @property
    def _pattern(self) -> re.Pattern[str]:
        return re.compile(".+".join(re.escape(part) for part in self.filled.split("{source}")))

    @property
    def namespace(self) -> str:
        """What every status of the environment starts with: ``handoff/dev`` of ``handoff/dev/{source}``."""
        return self.filled.split("{source}")[0].rstrip("/")

    def pick(self, statuses: Mapping[str, CommitStatus]) -> CommitStatus | None:
        """The environment's status among a commit's: the one context, or the worst of every context the
        template matches (its description names that context when several match)."""
        if "{source}" not in self.filled:
            return statuses.get(self.filled)
        matched = sorted((s for c, s in statuses.items() if self._pattern.fullmatch(c)),
                         key=lambda s: (WORST_FIRST.index(s.state), s.context))
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
