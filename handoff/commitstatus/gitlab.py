"""Commit statuses on GitLab: ``POST /projects/:id/statuses/:sha`` (pending|running|success|failed|
canceled) and ``GET /projects/:id/repository/commits/:sha/statuses``. A project access token with the
``api`` scope (Developer role) posts them; the token travels only in ``PRIVATE-TOKEN``."""

from __future__ import annotations

import logging
import urllib.parse
from collections.abc import Mapping

from handoff.commitstatus.http import JsonApi
from handoff.commitstatus.model import (
    APPLYING,
    FAILED,
    HEALTHY,
    CommitStatus,
    DeployState,
    described,
    state_from,
)
from handoff.errors import ForgeError
from handoff.redact import register
from handoff.retry import RetryPolicy

DEFAULT_URL = "https://gitlab.com"
_TO_GITLAB: dict[DeployState, str] = {"applying": "running", "healthy": "success", "degraded": "failed",
                                      "failed": "failed"}
_FROM_GITLAB: dict[str, DeployState] = {"pending": APPLYING, "running": APPLYING, "created": APPLYING,
                                        "success": HEALTHY, "failed": FAILED, "canceled": FAILED}
# the statuses list pages by ``page``/``per_page`` (at most 100) and says the next page in X-Next-Page;
# past MAX_PAGES pages the rest is not read
PER_PAGE = 100
MAX_PAGES = 10
# GitLab refuses a longer target_url (400, "is too long"; gitlab-org/gitlab#501079)
MAX_TARGET_URL = 255
log = logging.getLogger(__name__)


def _refused_transition(error: ForgeError) -> bool:
    """GitLab's 400 for a status its state machine cannot move to the state asked: a pending or running
    status of the name is updated in place, and ``run`` from ``running`` (or ``enqueue`` from
    ``pending``) is no transition (``Cannot transition status via :run from :running``)."""
    return error.status == 400 and "Cannot transition status" in error.message


def _last_page(headers: Mapping[str, str], listed: list[dict[str, object]]) -> bool:
    following = headers.get("X-Next-Page")
    if following is None:  # a proxy dropped the paging headers: a short page is the last
        return len(listed) < PER_PAGE
    return not following.strip()


class GitLabStatuses:
    name = "gitlab"

    def __init__(self, project: str, token: str, *, base_url: str | None = None,
                 retry: RetryPolicy | None = None) -> None:
        register(token)
        self._project = "/projects/" + urllib.parse.quote(project, safe="")
        root = (base_url or DEFAULT_URL).rstrip("/")
        self._api = JsonApi(root if root.endswith("/api/v4") else root + "/api/v4",
                            {"PRIVATE-TOKEN": token}, forge="GitLab", retry_policy=retry)

    @property
    def calls(self) -> int:
        return self._api.calls

    def post(self, commit: str, context: str, state: DeployState, description: str,
             target_url: str = "") -> None:
        """Set the status. A ``target_url`` GitLab would refuse is left out (logged), so the state still
        lands. GitLab changes a running status's text only with its state: a running status that should
        name another source or link (``applying`` moving from a to b) is finished as ``canceled``, carrying
        the new text (readers go by the description's state word: still applying), and a new running one
        is started, which GitLab lists instead of it (the older is "retried")."""
        if len(target_url) > MAX_TARGET_URL:
            log.warning("status target_url left out: GitLab refuses one over %d characters", MAX_TARGET_URL,
                        extra={"context": context, "length": len(target_url)})
            target_url = ""
        body: dict[str, str] = {"state": _TO_GITLAB[state], "name": context,
                                "description": described(state, description)}
        if target_url:
            body["target_url"] = target_url
        try:
            self._create(commit, body)
        except ForgeError as e:
            if not _refused_transition(e):
                raise
            now = self.read(commit).get(context)
            if now is None or now.state != state:
                raise
            if (now.description, now.target_url) != (body["description"], target_url):
                self._create(commit, {**body, "state": "canceled"})
                self._create(commit, body)

    def _create(self, commit: str, body: Mapping[str, str]) -> None:
        self._api.request("create commit status", "POST", f"{self._project}/statuses/{commit}", body=body)

    def read(self, commit: str) -> Mapping[str, CommitStatus]:
        """The latest status of every name: GitLab lists only each name's latest unless asked for ``all``,
        in pages; ``sort=desc`` (GitLab 17.8+, ignored before) puts the newest in the first pages."""
        items: list[dict[str, object]] = []
        for page in range(1, MAX_PAGES + 1):
            found, headers = self._api.answer(
                "list commit statuses", "GET", f"{self._project}/repository/commits/{commit}/statuses",
                params={"per_page": str(PER_PAGE), "page": str(page), "sort": "desc"})
            listed = [i for i in found if isinstance(i, dict)] if isinstance(found, list) else []
            items += listed
            if _last_page(headers, listed):
                break
        latest: dict[str, CommitStatus] = {}
        # whatever order the pages came in, a name's status now is its highest id
        for item in sorted(items, key=lambda i: int(str(i.get("id", 0)))):
            context = str(item.get("name", ""))
            description = str(item.get("description") or "")
            fallback = _FROM_GITLAB.get(str(item.get("status")), FAILED)
            latest[context] = CommitStatus(context, state_from(description, fallback), description,
                                           str(item.get("target_url") or ""),
                                           str(item.get("finished_at") or item.get("created_at") or ""))
        return latest
