"""The forge contract servers (tests/propose/contract) serving the commit status endpoints too: every
request and response still checked against GitHub's OpenAPI description and GitLab's documented shapes."""

from __future__ import annotations

import re
from typing import Any

from tests.propose.contract.github_server import GitHubContractServer
from tests.propose.contract.gitlab_server import (
    _PROJECT,
    ENDPOINTS,
    TIMESTAMP,
    Endpoint,
    GitLabContractServer,
)


class GitHubStatusServer(GitHubContractServer):
    """``statuses``: sha -> the statuses posted on it, oldest first."""

    def __init__(self, token: str, owner: str = "acme", repo: str = "config") -> None:
        self.statuses: dict[str, list[dict[str, Any]]] = {}
        super().__init__(token, owner, repo)

    def posts(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["method"] == "POST" and "/statuses/" in r["path"]]

    def op_repos_create_commit_status(self, params: dict[str, str], query: dict[str, str], body: Any
                                      ) -> tuple[int, Any]:
        example = self._example("repos/create-commit-status", 201)
        number = sum(len(v) for v in self.statuses.values()) + 1
        example.update(id=number, node_id=f"SC_{number}", state=body["state"], context=body.get("context", "default"),
                       description=body.get("description"), target_url=body.get("target_url"),
                       created_at=f"2026-01-01T00:00:{number:02d}Z", updated_at=f"2026-01-01T00:00:{number:02d}Z")
        self.statuses.setdefault(params["sha"], []).append(example)
        return 201, example

    def op_repos_list_commit_statuses_for_ref(self, params: dict[str, str], query: dict[str, str], body: Any
                                              ) -> tuple[int, Any]:
        return 200, _page(query, list(reversed(self.statuses.get(params["ref"], []))))  # newest first

    def op_repos_get_combined_status_for_ref(self, params: dict[str, str], query: dict[str, str], body: Any
                                             ) -> tuple[int, Any]:
        """One entry per context, its latest status; the combined state as documented (failure if any
        context failed or errored, pending if none or any is pending, else success); ``statuses`` paged."""
        combined = self._example("repos/get-combined-status-for-ref", 200)
        template = combined["statuses"][0]
        latest: dict[str, dict[str, Any]] = {}
        for status in self.statuses.get(params["ref"], []):
            latest[status["context"]] = {key: status.get(key, value) for key, value in template.items()}
        states = {s["state"] for s in latest.values()}
        state = "failure" if states & {"failure", "error"} else "pending" if not states or "pending" in states \
            else "success"
        combined.update(state=state, sha=params["ref"], total_count=len(latest),
                        statuses=_page(query, list(latest.values())))
        return 200, combined


def _page(query: dict[str, str], items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """GitHub's paging: ``per_page`` (default 30, at most 100) items of page ``page`` (from 1)."""
    per_page = min(100, int(query.get("per_page", "30")))
    page = int(query.get("page", "1"))
    return items[(page - 1) * per_page: page * per_page]


_STATUSES = (
    Endpoint("POST", re.compile(f"^{_PROJECT}/statuses/(?P<sha>[0-9a-f]{{40}})$"), "create_commit_status",
             body="create_commit_status.request"),
    Endpoint("GET", re.compile(f"^{_PROJECT}/repository/commits/(?P<sha>[0-9a-f]{{40}})/statuses$"),
             "list_commit_statuses", query="list_commit_statuses.query"),
)


_EVENTS = {"pending": "enqueue", "running": "run", "success": "success", "failed": "drop", "canceled": "cancel"}


class GitLabStatusServer(GitLabContractServer):
    """``statuses``: sha -> every status posted on it, oldest first. GitLab's create
    (``Ci::CreateCommitStatusService``) finds the name's pending or running status and moves it to the
    state asked, with the new description and target_url (kept here as a new entry: readers see the same
    latest); ``run`` from ``running`` (``enqueue`` from ``pending``) is no transition: 400 ``Cannot
    transition status via :run from :running``, nothing saved. GitLab starts a new status after a finished
    one; this server also refuses a finished state posted again, which a client must take as success. The list pages as documented
    (https://docs.gitlab.com/api/commits/#list-the-statuses-of-a-commit, https://docs.gitlab.com/api/rest/#pagination):
    ``per_page`` (default 20, at most 100) items of ``page``, by id (``sort`` asc by default), only each
    name's latest unless ``all=true``, with ``X-Page``, ``X-Per-Page``, ``X-Next-Page`` (empty on the last),
    ``X-Prev-Page``, ``X-Total`` and ``X-Total-Pages``."""

    endpoints = (*ENDPOINTS, *_STATUSES)
    response_shapes = {**GitLabContractServer.response_shapes, "create_commit_status": "commit_status.response",
                       "list_commit_statuses": "commit_status.response"}

    def __init__(self, token: str, project: str = "acme/config", project_id: int = 42) -> None:
        self.statuses: dict[str, list[dict[str, Any]]] = {}
        self._paging: dict[str, str] = {}
        super().__init__(token, project, project_id)

    def op_create_commit_status(self, params: dict[str, str], query: dict[str, str], body: Any
                                ) -> tuple[int, Any]:
        name = body.get("name") or body.get("context") or "default"
        mine = [s for s in self.statuses.get(params["sha"], []) if s["name"] == name]
        if mine and mine[-1]["status"] == body["state"]:
            return 400, {"message": f"Cannot transition status via :{_EVENTS[body['state']]} from "
                                    f":{body['state']}"}
        number = sum(len(v) for v in self.statuses.values()) + 1
        status = {"id": 800 + number, "sha": params["sha"], "ref": None, "status": body["state"], "name": name,
                  "target_url": body.get("target_url"), "description": body.get("description"),
                  "created_at": TIMESTAMP, "started_at": None, "finished_at": None, "allow_failure": False,
                  "coverage": None, "author": self._user("handoff-bot")}
        self.statuses.setdefault(params["sha"], []).append(status)
        return 201, status

    def op_list_commit_statuses(self, params: dict[str, str], query: dict[str, str], body: Any
                                ) -> tuple[int, Any]:
        everything = sorted(self.statuses.get(params["sha"], []), key=lambda s: int(s["id"]))
        if query.get("all") != "true":
            everything = sorted({s["name"]: s for s in everything}.values(), key=lambda s: int(s["id"]))
        if query.get("sort") == "desc":
            everything.reverse()
        per_page = min(100, int(query.get("per_page", "20")))
        page = int(query.get("page", "1"))
        pages = max(1, -(-len(everything) // per_page))
        self._paging = {"X-Page": str(page), "X-Per-Page": str(per_page), "X-Total": str(len(everything)),
                        "X-Total-Pages": str(pages), "X-Next-Page": str(page + 1) if page < pages else "",
                        "X-Prev-Page": str(page - 1) if page > 1 else ""}
        return 200, everything[(page - 1) * per_page: page * per_page]

    def _headers(self, endpoint: Endpoint, payload: Any) -> dict[str, str]:
        headers = super()._headers(endpoint, payload)
        return {**headers, **self._paging} if endpoint.name == "list_commit_statuses" else headers
