"""Commit statuses for the local forge (any git remote, no API): one git note per commit in
``refs/notes/handoff-status``, a JSON object of each context's latest status, pushed by the reconciler
and read back by ``handoff wait`` with plain git. Writers race (several sources, several replicas):
each post fetches the notes, updates its context and pushes fast-forward only, again on rejection after
a jittered backoff (``handoff.retry``), so writers that lost a race spread out instead of colliding again."""

from __future__ import annotations

import datetime
import json
from collections.abc import Mapping
from typing import Any, Protocol

from handoff.commitstatus.model import STATES, CommitStatus, DeployState, described
from handoff.commitstatus.signing import sign, verified
from handoff.errors import ForgeError, HandoffError
from handoff.retry import RetryPolicy, TemporaryError, retry

NOTES_REF = "refs/notes/handoff-status"
# 10 attempts, the waits between them under 10 s in all: 8 shards posting at one instant all land
PUSH_RETRY = RetryPolicy(attempts=10, base_delay=0.05, max_delay=2.0)


class NotesMoved(TemporaryError):
    """Another writer pushed the notes ref between our fetch and our push."""

    def giving_up(self, what: str, attempts: int) -> HandoffError:
        return ForgeError(self.exhausted_message(what, attempts))


class NotesStore(Protocol):
    """A git notes ref on the config repo's remote. ``handoff.git.notes.GitNotes`` implements it;
    commitstatus/ depends on this Protocol, never on git/ (siblings stay independent)."""

    calls: int

    def fetch(self) -> None:
        """Bring the local notes ref to the remote's (empty when the remote has none)."""
        ...

    def read(self, commit: str) -> bytes | None:
        """The note on ``commit``, if any."""
        ...

    def write(self, commit: str, data: bytes) -> None:
        """Replace the note on ``commit`` (a local commit on the notes ref)."""
        ...

    def push(self) -> bool:
        """Push the notes ref fast-forward only; False when another writer moved it first."""
        ...


def _entries(data: bytes | None) -> dict[str, Any]:
    try:
        parsed = json.loads(data or b"{}")
    except (ValueError, RecursionError):  # not JSON, or nested past the interpreter's recursion limit
        return {}  # an unreadable note is replaced, not trusted
    statuses = parsed.get("statuses") if isinstance(parsed, dict) else None
    return dict(statuses) if isinstance(statuses, dict) else {}


class LocalStatuses:
    """With ``key`` (see ``commitstatus.signing``), posts sign each entry and reads ignore every entry
    not signed with it: config-repo writers can push the notes ref too."""

    name = "local"

    def __init__(self, notes: NotesStore, *, key: bytes | None = None,
                 push_retry: RetryPolicy = PUSH_RETRY) -> None:
        self._notes = notes
        self._key = key
        self._push_retry = push_retry

    @property
    def calls(self) -> int:
        return self._notes.calls

    def post(self, commit: str, context: str, state: DeployState, description: str,
             target_url: str = "") -> None:
        def attempt() -> None:
            self._notes.fetch()
            entries = _entries(self._notes.read(commit))
            shown = described(state, description)
            entries[context] = {"state": state, "description": shown, "target_url": target_url,
                                "updated_at": _now()}
            if self._key is not None:
                entries[context]["signature"] = sign(self._key, commit, context, state, shown)
            body = json.dumps({"statuses": entries}, sort_keys=True, indent=1) + "\n"
            self._notes.write(commit, body.encode())
            if not self._notes.push():
                raise NotesMoved(f"{NOTES_REF} kept moving")

        retry(attempt, self._push_retry, what=f"cannot record the status of {commit[:12]}")

    def read(self, commit: str) -> Mapping[str, CommitStatus]:
        self._notes.fetch()
        return self.read_fetched(commit)

    def read_fetched(self, commit: str) -> Mapping[str, CommitStatus]:
        """Like :meth:`read`, from the notes already fetched (``handoff status`` reads many commits)."""
        out: dict[str, CommitStatus] = {}
        for context, entry in _entries(self._notes.read(commit)).items():
            if not isinstance(entry, dict) or entry.get("state") not in STATES:
                continue
            description = str(entry.get("description", ""))
            if self._key is not None and not verified(entry.get("signature"), self._key, commit=commit,
                                                      context=str(context), state=entry["state"],
                                                      description=description):
                continue
            out[str(context)] = CommitStatus(
                str(context), entry["state"], description,
                str(entry.get("target_url", "")), str(entry.get("updated_at", "")))
        return out


def _now() -> str:
    return datetime.datetime.now(tz=datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
