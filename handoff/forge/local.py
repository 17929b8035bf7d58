"""The local forge: no account, no API. The proposal branch is pushed to any git remote (even a
local path) and the proposal itself is recorded in that branch as ``.handoff/proposals/<env>-<app>``
``.md`` + ``.json``, so a reviewer (or ``make demo``) can read it with plain git."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from handoff.forge.base import BranchReader, Proposal, ProposalRequest
from handoff.redact import redact

PROPOSALS_DIR = ".handoff/proposals"


def proposal_stem(app: str, env: str) -> str:
    raw = f"{env}-{app}" if env else app
    return re.sub(r"[^A-Za-z0-9._-]+", "_", raw).strip(".") or "proposal"


class LocalForge:
    name = "local"

    def __init__(self, repo: BranchReader, remote: str) -> None:
        self._repo = repo
        self._remote = remote

    def _url(self, head: str) -> str:
        return redact(f"{self._remote}#{head}")

    def branch_files(self, request: ProposalRequest, state: str) -> Mapping[str, bytes]:
        stem = f"{PROPOSALS_DIR}/{proposal_stem(request.app, request.env)}"
        record = {
            "app": request.app,
            "env": request.env,
            "head": request.head,
            "base": request.base,
            "state": state,
            "title": redact(request.title),
            "body": redact(request.body),
            "labels": list(request.labels),
            "reviewers": list(request.reviewers),
            "assignees": list(request.assignees),
            "draft": request.draft,
            "auto_merge": request.auto_merge,
            "delete_branch": request.delete_branch,
        }
        markdown = f"# {redact(request.title)}\n\nstate: {state}\n\n{redact(request.body)}\n"
        return {
            f"{stem}.json": (json.dumps(record, indent=2, sort_keys=True) + "\n").encode(),
            f"{stem}.md": markdown.encode(),
        }

    def find_open(self, head: str, base: str) -> Proposal | None:
        heads = self._repo.remote_heads(head)
        if head not in heads:
            return None
        commit = self._repo.ensure({head: heads[head]})[head]
        for path in self._repo.files_in(commit, PROPOSALS_DIR):
            if not path.endswith(".json"):
                continue
            data = self._repo.show(commit, path)
            try:
                record = json.loads(data or b"{}")
            except ValueError:
                continue
            if record.get("head") == head and record.get("state") == "open":
                return Proposal(0, self._url(head), "open", str(record.get("title", "")),
                                str(record.get("body", "")))
        return None

    def is_current(self, proposal: Proposal, request: ProposalRequest) -> bool:
        return (proposal.title, proposal.body) == (redact(request.title), redact(request.body))

    def create(self, request: ProposalRequest) -> Proposal:
        return Proposal(0, self._url(request.head))

    def update(self, proposal: Proposal, request: ProposalRequest) -> Proposal:
        return Proposal(0, self._url(request.head))

    def close(self, proposal: Proposal, comment: str) -> Proposal:
        return Proposal(proposal.number, proposal.url, "closed")
