"""The forge plugin kind: one Protocol, the request/result data, shared by github, gitlab and local."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from handoff.changes import FileChange


class BranchReader(Protocol):
    """What the local forge reads from the config repo's git remote. The workflow passes in its clone
    (a ``handoff.git.repo.Repo``), so forge/ depends on this Protocol and never on git/."""

    def remote_heads(self, *branches: str) -> dict[str, str]:
        """The remote's commit for each of ``branches`` that exists."""
        ...

    def ensure(self, heads: Mapping[str, str]) -> dict[str, str]:
        """Make the commits of ``heads`` (branch -> commit) available locally; each branch's commit."""
        ...

    def files_in(self, commit: str, directory: str) -> tuple[str, ...]:
        """Paths of the files directly in ``directory`` at ``commit`` (none if it does not exist)."""
        ...

    def show(self, commit: str, path: str) -> bytes | None:
        """The content of ``path`` at ``commit``, or None if it does not exist there."""
        ...


@dataclass(frozen=True)
class ProposalRequest:
    """Everything a forge needs to open or update the rolling PR/MR of one (app, env)."""

    head: str
    base: str
    title: str
    body: str
    app: str = ""
    env: str = ""
    labels: tuple[str, ...] = ()
    reviewers: tuple[str, ...] = ()
    assignees: tuple[str, ...] = ()
    draft: bool = False
    auto_merge: bool = False
    delete_branch: bool = False
    head_sha: str = ""  # the commit pushed to ``head``; auto-merge waits for that commit's pipeline


@dataclass(frozen=True)
class Proposal:
    """An open (or just closed) PR/MR. ``number`` is 0 for the local forge, which has no numbers.
    ``title`` and ``body`` are what the forge holds now (as found), so a rerun can tell whether only
    the description changed."""

    number: int
    url: str
    state: str = "open"
    title: str = ""
    body: str = ""


class Forge(Protocol):
    """A place where proposals live. API forges return ``{}`` from :meth:`branch_files`; the local
    forge records its proposal as files in the branch itself, so it has nothing to call afterwards."""

    name: str

    def branch_files(self, request: ProposalRequest, state: str) -> Mapping[str, bytes]:
        """Extra files to commit into the proposal branch (``state`` is "open" or "closed")."""
        ...

    def find_open(self, head: str, base: str) -> Proposal | None:
        """The open proposal from ``head`` into ``base``, if any."""
        ...

    def is_current(self, proposal: Proposal, request: ProposalRequest) -> bool:
        """True when ``proposal`` already has the title and description ``request`` would set."""
        ...

    def create(self, request: ProposalRequest) -> Proposal:
        """Open a proposal; raises ``ForgeConflict`` if one already exists for ``head``."""
        ...

    def update(self, proposal: Proposal, request: ProposalRequest) -> Proposal:
        """Refresh title, body and metadata of an open proposal in place."""
        ...

    def close(self, proposal: Proposal, comment: str) -> Proposal:
        """Comment on and close a proposal whose diff disappeared."""
        ...


@dataclass(frozen=True)
class ApiCommit:
    """A commit to create through a forge's API (so the forge signs it) and point ``branch`` at.

    ``lease`` is the commit ``branch`` must still be at ("" for "must not exist"), or None for a
    fast-forward-only update (direct mode, where ``parent`` is the branch's current commit).
    """

    branch: str
    parent: str
    base_tree: str
    message: str
    changes: tuple[FileChange, ...]
    lease: str | None


@runtime_checkable
class ApiCommitter(Protocol):
    """A forge that can create verified commits itself (``--sign api``)."""

    def commit_via_api(self, commit: ApiCommit) -> str | None:
        """Create the commit and move the branch; the new commit, or None if the branch moved."""
        ...
