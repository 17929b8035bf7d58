"""GitLab.com or self-managed GitLab through python-gitlab. Only this module imports it."""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import gitlab
import requests

from handoff.errors import ForgeError
from handoff.forge.base import Proposal, ProposalRequest
from handoff.forge.retry import error_for
from handoff.redact import redact, register
from handoff.retry import RetryPolicy, retry

log = logging.getLogger(__name__)
T = TypeVar("T")
DEFAULT_URL = "https://gitlab.com"
DRAFT_PREFIX = "Draft: "


class _Gitlab(gitlab.Gitlab):
    """python-gitlab with its own 429 handling off: it sleeps (uncapped, up to 10 times) inside the
    call, where handoff's bounded, capped retry policy cannot see it."""

    def http_request(self, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs["obey_rate_limit"] = False
        kwargs["max_retries"] = 0
        return super().http_request(*args, **kwargs)


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
        # python-gitlab's errors carry no headers; keep the last response's (per thread) for
        # Retry-After / RateLimit-Reset.
        self._last = threading.local()
        session = requests.Session()
        session.hooks["response"].append(self._remember_headers)
        self._gl = _Gitlab(base_url or DEFAULT_URL, private_token=token, retry_transient_errors=False,
                           timeout=60, session=session)
        self._project = self._gl.projects.get(project, lazy=True)

    def _remember_headers(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self._last.headers = dict(response.headers)

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        def once() -> T:
            self._last.headers = {}
            try:
                return fn()
            except self._exc as e:
                status = int(e.response_code or 0)
                if status == 0:
                    raise ForgeError(redact(f"{what}: cannot reach GitLab: {e.error_message}")) from e
                message = f"{what}: {redact(str(e.error_message))}"
                raise error_for(status, message, self._last.headers, self._retry.clock()) from e
            except requests.RequestException as e:
                raise ForgeError(redact(f"{what}: cannot reach GitLab: {e}")) from e
        return retry(once, self._retry, what=f"GitLab {what}")

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
        self._auto_merge(int(mr.iid), request)
        return self._proposal(mr)

    def update(self, proposal: Proposal, request: ProposalRequest) -> Proposal:
        fields = self._fields(request)
        mr = self._call("update merge request", lambda: self._project.mergerequests.update(
            proposal.number, fields))
        self._auto_merge(proposal.number, request)
        return Proposal(proposal.number, str(mr.get("web_url", proposal.url)), str(mr.get("state", "opened")),
                        str(mr.get("title", "")), str(mr.get("description") or ""))

    def close(self, proposal: Proposal, comment: str) -> Proposal:
        mr = self._project.mergerequests.get(proposal.number, lazy=True)
        self._call("comment on merge request", lambda: mr.notes.create({"body": redact(comment)}))
        self._call("close merge request", lambda: self._project.mergerequests.update(
            proposal.number, {"state_event": "close"}))
        return Proposal(proposal.number, proposal.url, "closed")

    def _pipeline_exists(self, iid: int, sha: str) -> bool:
        mr = self._project.mergerequests.get(iid, lazy=True)
        pipelines = self._call("list merge request pipelines", lambda: mr.pipelines.list(get_all=False))
        return any(not sha or getattr(p, "sha", "") == sha for p in pipelines)

    def _auto_merge(self, iid: int, request: ProposalRequest) -> None:
        """Merge-when-pipeline-succeeds only once the pipeline for the pushed head exists: enabling it
        earlier merges at once or fails with 405 (gitlab #37292), and an older head's pipeline says
        nothing about this commit. ``sha`` makes GitLab refuse if the branch moved meanwhile."""
        if not request.auto_merge:
            return
        polls = max(1, math.ceil(self._pipeline_wait / self._poll)) if self._poll > 0 else 1
        for poll in range(polls + 1):
            if self._pipeline_exists(iid, request.head_sha):
                break
            if poll == polls:
                log.warning("no pipeline for merge request !%s at %s after %.0fs; auto-merge not enabled",
                            iid, request.head_sha[:12] or "its head", self._pipeline_wait)
                return
            self._retry.sleep(self._poll)
        # auto_merge replaces merge_when_pipeline_succeeds from GitLab 17.11; older servers ignore the
        # unknown auto_merge and would merge at once without the old flag, so send both.
        data: dict[str, Any] = {"merge_when_pipeline_succeeds": True, "auto_merge": True}
        if request.head_sha:
            data["sha"] = request.head_sha
        if request.delete_branch:
            data["should_remove_source_branch"] = True
        path = f"{self._project.mergerequests.path}/{iid}/merge"
        self._call("enable merge when pipeline succeeds", lambda: self._gl.http_put(path, post_data=data))
