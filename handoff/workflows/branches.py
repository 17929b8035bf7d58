"""The rolling branch a proposal owns: always under handoff's own prefix, never a branch people use.

The branch template comes from ``.handoff.yaml`` (repo content) or ``--branch-template``; either could
resolve to ``main`` or ``prod``, and a rolling branch is force-pushed. So the name must stay under
``handoff/`` and may not be the base, the default branch or any environment's branch.
"""

from __future__ import annotations

from collections.abc import Iterable

from handoff import templates
from handoff.errors import ConfigError
from handoff.git.repo import validate_ref

PREFIX = "handoff/"


def rolling_branch(template: str, *, env: str, app: str, protected: Iterable[str]) -> str:
    """The branch ``template`` names for (env, app), refused unless handoff may own it."""
    branch = validate_ref(templates.render(template, {"env": env, "app": app}))
    if not branch.startswith(PREFIX) or branch == PREFIX.rstrip("/"):
        raise ConfigError(f"the proposal branch {branch!r} is not under {PREFIX!r}: handoff force-pushes "
                          "its rolling branches, so it only owns branches under that prefix",
                          file=".handoff.yaml", key="propose.branch")
    # `refs/heads/prod` names the branch `prod`; and hosts on case-insensitive filesystems store
    # `handoff/Prod` and `handoff/prod` as one ref, so compare case-folded
    taken = {p.removeprefix("refs/heads/").casefold() for p in protected if p}
    if branch.casefold() in taken:
        raise ConfigError(f"the proposal branch {branch!r} is a base or environment branch; handoff "
                          "would force-push over it", file=".handoff.yaml", key="propose.branch")
    return branch
