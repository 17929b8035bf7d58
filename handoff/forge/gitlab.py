"""GitLab.com or self-managed GitLab through python-gitlab. Only this module imports it."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import gitlab

from handoff.errors import ForgeError
from handoff.forge.base import Proposal, ProposalRequest
from handoff.forge.retry import RetryPolicy, error_for, with_retries
from handoff.redact import redact, register

log = logging.getLogger(__name__)
T = TypeVar("T")
DEFAULT_URL = "https://gitlab.com"
DRAFT_PREFIX = "Draft: "


class GitLabForge:
    name = "gitlab"

    def __init__(self, project: str, token: str, *, base_url: str | None = None,
                 retry: RetryPolicy | None = None, pipeline_wait: float = 120.0,
                 poll_interval: float = 5.0) -> None:
        register(token)
        self._retry = retry or RetryPolicy()
        self._exc = gitlab.exceptions.GitlabError
        self._pipeline_wait = pipeline_wait
        self._poll = poll_interval
        self._gl = gitlab.Gitlab(base_url or DEFAULT_URL, private_token=token, retry_transient_errors=False,
                                 timeout=60)
        self._project = self._gl.projects.get(project, lazy=True)

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        def once() -> T:
            try:
                return fn()
            except self._exc as e:
                status = int(e.response_code or 0)
                headers = dict(getattr(getattr(e, "response", None), "headers", None) or {})
                if status == 0:
                    raise ForgeError(redact(f"{what}: cannot reach GitLab: {e.error_message}")) from e
                message = f"{what}: {redact(str(e.error_message))}"
                raise error_for(status, message, headers, time.time()) from e
            except Exception as e:
                if type(e).__module__.startswith(("requests", "urllib3")):
                    raise ForgeError(redact(f"{what}: cannot reach GitLab: {e}")) from e
                raise
        return with_retries(once, self._retry, f"GitLab {what}")

    def branch_files(self, request: ProposalRequest, state: str) -> Mapping[str, bytes]:
        return {}

    @staticmethod
    def _proposal(mr: Any) -> Proposal:
        return Proposal(int(mr.iid), str(mr.web_url), str(mr.state), str(mr.title or ""),
                        str(mr.description or ""))

    def is_current(self, proposal: Proposal, request: ProposalRequest) -> bool:
        return (proposal.title, proposal.body) == (self._title(request), redact(request.body))

    def _user_ids(self, usernames: tuple[str, ...]) -> list[int]:
        ids = []
        for name in usernames:
            found = self._call("look up user", self._user_lookup(name))
            if found:
                ids.append(int(found[0].id))
            else:
                log.warning("GitLab user %r not found; skipped", name)
        return ids

    def _user_lookup(self, name: str) -> Callable[[], list[Any]]:
        return lambda: list(self._gl.users.list(username=name, get_all=False))

    def _title(self, request: ProposalRequest) -> str:
        title = redact(request.title)
        return DRAFT_PREFIX + title if request.draft and not title.startswith(DRAFT_PREFIX) else title

    def _fields(self, request: ProposalRequest) -> dict[str, Any]:
        fields: dict[str, Any] = {"title": self._title(request), "description": redact(request.body),
                                  "remove_source_branch": request.delete_branch}
        if request.labels:
            fields["labels"] = ",".join(request.labels)
        if request.reviewers:
            fields["reviewer_ids"] = self._user_ids(request.reviewers)
        if request.assignees:
            fields["assignee_ids"] = self._user_ids(request.assignees)
        return fields

    def find_open(self, head: str, base: str) -> Proposal | None:
        found = self._call("list merge requests", lambda: self._project.mergerequests.list(
            state="opened", source_branch=head, target_branch=base, get_all=False))
        return self._proposal(found[0]) if found else None

    def create(self, request: ProposalRequest) -> Proposal:
        fields = {"source_branch": request.head, "target_branch": request.base, **self._fields(request)}
        mr = self._call("create merge request", lambda: self._project.mergerequests.create(fields))
        self._auto_merge(mr, request)
        return self._proposal(mr)

    def update(self, proposal: Proposal, request: ProposalRequest) -> Proposal:
        fields = self._fields(request)
        mr = self._call("update merge request", lambda: self._project.mergerequests.update(
            proposal.number, fields))
        mr_obj = self._project.mergerequests.get(proposal.number, lazy=True)
        self._auto_merge(mr_obj, request)
        return Proposal(proposal.number, str(mr.get("web_url", proposal.url)), str(mr.get("state", "opened")))

    def close(self, proposal: Proposal, comment: str) -> Proposal:
        mr = self._project.mergerequests.get(proposal.number, lazy=True)
        self._call("comment on merge request", lambda: mr.notes.create({"body": redact(comment)}))
        self._call("close merge request", lambda: self._project.mergerequests.update(
            proposal.number, {"state_event": "close"}))
        return Proposal(proposal.number, proposal.url, "closed")

    def _auto_merge(self, mr: Any, request: ProposalRequest) -> None:
        """Merge-when-pipeline-succeeds only once the MR pipeline exists: enabling it earlier merges
        at once or fails with 405 (gitlab #37292)."""
        if not request.auto_merge:
            return
        deadline = time.monotonic() + self._pipeline_wait
        while True:
            pipelines = self._call("list merge request pipelines", lambda: mr.pipelines.list(get_all=False))
            if pipelines:
                break
            if time.monotonic() >= deadline:
                log.warning("no pipeline for merge request !%s after %.0fs; auto-merge not enabled",
                            mr.iid, self._pipeline_wait)
                return
            time.sleep(self._poll)
        self._call("enable merge when pipeline succeeds", lambda: mr.merge(
            merge_when_pipeline_succeeds=True, should_remove_source_branch=request.delete_branch or None))
