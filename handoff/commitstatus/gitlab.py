"""Commit statuses on GitLab: ``POST /projects/:id/statuses/:sha`` (pending|running|success|failed|
canceled) and ``GET /projects/:id/repository/commits/:sha/statuses``. A project access token with the
``api`` scope (Developer role) posts them; the token travels only in ``PRIVATE-TOKEN``."""

from __future__ import annotations

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
_NONE = CommitStatus("", FAILED, "")


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
        body: dict[str, str] = {"state": _TO_GITLAB[state], "name": context,
                                "description": described(state, description)}
        if target_url:
            body["target_url"] = target_url
        try:
            self._api.request("create commit status", "POST", f"{self._project}/statuses/{commit}", body=body)
        except ForgeError as e:
            # GitLab answers 400 to a status set to the state it already has (after a reconciler restart
            # forgot what it posted): that is success, once a read shows the state is there
            if e.status != 400 or self.read(commit).get(context, _NONE).state != state:
                raise

    def read(self, commit: str) -> Mapping[str, CommitStatus]:
        found = self._api.request("list commit statuses", "GET",
                                  f"{self._project}/repository/commits/{commit}/statuses",
                                  params={"per_page": "100"})
        latest: dict[str, CommitStatus] = {}
        # GitLab lists a name's statuses oldest first: the last one of a name is its status now
        for item in sorted(found if isinstance(found, list) else (), key=lambda i: int(i.get("id", 0))):
            context = str(item.get("name", ""))
            description = str(item.get("description") or "")
            fallback = _FROM_GITLAB.get(str(item.get("status")), FAILED)
            latest[context] = CommitStatus(context, state_from(description, fallback), description,
                                           str(item.get("target_url") or ""),
                                           str(item.get("finished_at") or item.get("created_at") or ""))
        return latest
