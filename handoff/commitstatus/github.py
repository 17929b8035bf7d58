"""Commit statuses on GitHub (and GitHub Enterprise Server): ``POST /repos/{owner}/{repo}/statuses/{sha}``
and the combined status ``GET /repos/{owner}/{repo}/commits/{ref}/status`` (the latest status of each
context, paged by context). A fine-grained token with "Commit statuses: write" is enough; it cannot push
or merge."""

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
from handoff.errors import UsageError
from handoff.redact import register
from handoff.retry import RetryPolicy

DEFAULT_API = "https://api.github.com"
_TO_GITHUB: dict[DeployState, str] = {"applying": "pending", "healthy": "success", "degraded": "failure",
                                      "failed": "failure"}
# the combined status pages its contexts, at most 100 a page; past MAX_PAGES pages the rest is not read
PER_PAGE = 100
MAX_PAGES = 10
_FROM_GITHUB: dict[str, DeployState] = {"pending": APPLYING, "success": HEALTHY, "failure": FAILED,
                                        "error": FAILED}


class GitHubStatuses:
    name = "github"

    def __init__(self, project: str, token: str, *, base_url: str | None = None,
                 retry: RetryPolicy | None = None) -> None:
        if project.count("/") != 1:
            raise UsageError(f"GitHub repository must be 'owner/name', got {project!r}")
        register(token)
        self._repo = "/repos/" + "/".join(urllib.parse.quote(p, safe="") for p in project.split("/"))
        self._api = JsonApi(base_url or DEFAULT_API, {"Authorization": f"Bearer {token}",
                                                      "X-GitHub-Api-Version": "2022-11-28"},
                            forge="GitHub", retry_policy=retry)

    @property
    def calls(self) -> int:
        return self._api.calls

    def post(self, commit: str, context: str, state: DeployState, description: str,
             target_url: str = "") -> None:
        body: dict[str, str] = {"state": _TO_GITHUB[state], "context": context,
                                "description": described(state, description)}
        if target_url:
            body["target_url"] = target_url
        self._api.request("create commit status", "POST", f"{self._repo}/statuses/{commit}", body=body)

    def read(self, commit: str) -> Mapping[str, CommitStatus]:
        """The latest status of every context, from the combined status rather than the statuses list: the
        list holds every status ever posted (newest first), so contexts whose latest post is older than the
        first page would be missed; the combined status has one entry per context and ``total_count``."""
        latest: dict[str, CommitStatus] = {}
        for page in range(1, MAX_PAGES + 1):
            found = self._api.request("read combined commit status", "GET",
                                      f"{self._repo}/commits/{commit}/status",
                                      params={"per_page": str(PER_PAGE), "page": str(page)})
            found = found if isinstance(found, dict) else {}
            items = found.get("statuses") or []
            for item in items:
                context = str(item.get("context", ""))
                description = str(item.get("description") or "")
                fallback = _FROM_GITHUB.get(str(item.get("state")), FAILED)
                latest.setdefault(context, CommitStatus(
                    context, state_from(description, fallback), description,
                    str(item.get("target_url") or ""), str(item.get("updated_at", ""))))
            if len(items) < PER_PAGE or len(latest) >= int(found.get("total_count") or 0):
                break
        return latest
