"""A local GitLab REST (v4) server for contract tests.

GitLab has no complete OpenAPI description for merge requests, so the request/response shapes are
JSON Schemas written from its REST docs (``gitlab_shapes/``, sources in ``gitlab_shapes/SOURCES.md``).
Every request must hit a documented endpoint with the URL-encoded project path, carry the token in
the ``PRIVATE-TOKEN`` header (never in the URL), and have a query and JSON body that validate
against the endpoint's shape; every response is validated against its shape before it is sent.
Anything that does not match is recorded in ``violations``.
"""

from __future__ import annotations

import functools
import json
import re
import threading
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema

from tests.propose.contract.jsonhttp import JsonApiServer

SHAPES = Path(__file__).with_name("gitlab_shapes")
API = "/api/v4"
TIMESTAMP = "2026-01-01T00:00:00.000Z"


def _inline_refs(node: Any) -> Any:
    if isinstance(node, list):
        return [_inline_refs(n) for n in node]
    if not isinstance(node, dict):
        return node
    if set(node) == {"$ref"}:
        return shape(node["$ref"].removesuffix(".json"))
    return {k: _inline_refs(v) for k, v in node.items() if k != "$schema"}


@functools.cache
def shape(name: str) -> dict[str, Any]:
    """The JSON Schema ``gitlab_shapes/<name>.json`` with its file ``$ref`` s inlined."""
    return dict(_inline_refs(json.loads((SHAPES / f"{name}.json").read_text())))


@dataclass(frozen=True)
class Endpoint:
    method: str
    pattern: re.Pattern[str]
    name: str
    query: str | None = None
    body: str | None = None


_PROJECT = r"/projects/(?P<project>[^/]+)"
_MR = _PROJECT + r"/merge_requests/(?P<iid>[0-9]+)"
ENDPOINTS = (
    Endpoint("GET", re.compile(f"^{_PROJECT}/merge_requests$"), "list_merge_requests",
             query="list_merge_requests.query"),
    Endpoint("POST", re.compile(f"^{_PROJECT}/merge_requests$"), "create_merge_request",
             body="create_merge_request.request"),
    Endpoint("GET", re.compile(f"^{_MR}$"), "get_merge_request"),
    Endpoint("PUT", re.compile(f"^{_MR}$"), "update_merge_request", body="update_merge_request.request"),
    Endpoint("POST", re.compile(f"^{_MR}/notes$"), "create_note", body="create_note.request"),
    Endpoint("GET", re.compile(f"^{_MR}/pipelines$"), "list_merge_request_pipelines",
             query="list_merge_request_pipelines.query"),
    Endpoint("PUT", re.compile(f"^{_MR}/merge$"), "merge_merge_request", body="merge_merge_request.request"),
    Endpoint("GET", re.compile("^/users$"), "list_users", query="list_users.query"),
)


class GitLabContractServer(JsonApiServer):
    """State: ``mrs`` by iid, ``notes``, ``merges`` (each with whether the head's pipeline existed).

    Knobs: ``queue(status, headers, body)`` answers the next request with that; ``pipeline_after``
    is how many pipeline listings go by before the pipeline for the MR's current head appears (older
    heads keep theirs); ``hide_from_list`` makes the next N MR listings miss open MRs (a racing job
    created one); ``branch_heads`` (or ``head_of``) says which commit each source branch is at, as
    GitLab learns from pushes.
    """

    bug_body = {"message": "500 Internal Server Error"}
    # a subclass serving more of the API (tests/commitstatus) adds endpoints and their response shapes
    endpoints: tuple[Endpoint, ...] = ENDPOINTS
    response_shapes: dict[str, str] = {
        "list_merge_requests": "merge_request.response", "create_merge_request": "merge_request.response",
        "get_merge_request": "merge_request.response", "update_merge_request": "merge_request.response",
        "merge_merge_request": "merge_request.response", "create_note": "note.response",
        "list_merge_request_pipelines": "pipeline.response", "list_users": "user.response"}

    def __init__(self, token: str, project: str = "acme/config", project_id: int = 42) -> None:
        self.token = token
        self.project = project
        self.project_id = project_id
        self.users = {"alice": 11, "bob": 12, "handoff-bot": 99}
        self.violations: list[str] = []
        self.requests: list[dict[str, Any]] = []
        self.mrs: dict[int, dict[str, Any]] = {}
        self.notes: list[tuple[int, str]] = []
        self.merges: list[dict[str, Any]] = []
        self.pipeline_polls: dict[tuple[int, str], int] = {}
        self.pipelines: dict[int, list[str]] = {}
        self.branch_heads: dict[str, str] = {}
        self.head_of: Callable[[str], str | None] = self.branch_heads.get
        self.pipeline_after = 0
        self.hide_from_list = 0
        self.queued: list[tuple[int, dict[str, str], Any]] = []
        self.lock = threading.Lock()
        self._start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def queue(self, status: int, headers: dict[str, str] | None = None, body: Any = None) -> None:
        self.queued.append((status, headers or {}, body if body is not None else {"message": f"{status}"}))

    def calls(self, name: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["endpoint"] == name]

    def handle(self, method: str, raw_path: str, headers: dict[str, str], raw: bytes
               ) -> tuple[int, dict[str, str], Any]:
        with self.lock:
            parsed = urllib.parse.urlsplit(raw_path)
            lower = {k.lower(): v for k, v in headers.items()}
            record: dict[str, Any] = {"method": method, "path": raw_path, "headers": headers,
                                      "body": raw.decode(errors="replace"), "endpoint": None}
            self.requests.append(record)
            if self.token in urllib.parse.unquote(raw_path):
                self.violations.append(f"{method} {parsed.path}: the token is in the URL")
            if lower.get("private-token") != self.token:
                return 401, {}, {"message": "401 Unauthorized"}
            if self.queued:
                return self.queued.pop(0)
            if not parsed.path.startswith(API):
                self.violations.append(f"{method} {parsed.path}: outside {API}")
                return 404, {}, {"error": "404 Not Found"}
            path = parsed.path[len(API):]
            for endpoint in self.endpoints:
                match = endpoint.pattern.match(path) if endpoint.method == method else None
                if match:
                    break
            else:
                self.violations.append(f"{method} {path}: no such documented endpoint")
                return 404, {}, {"error": "404 Not Found"}
            record["endpoint"] = endpoint.name
            for mr in self.mrs.values():
                mr["sha"] = self.head_of(mr["source_branch"]) or mr["sha"]
            params = match.groupdict()
            if "project" in params and params["project"] not in (str(self.project_id),
                                                                 urllib.parse.quote(self.project, safe="")):
                self.violations.append(f"{endpoint.name}: project id {params['project']!r} is neither the id "
                                       "nor the URL-encoded path")
                return 404, {}, {"message": "404 Project Not Found"}
            query = dict(urllib.parse.parse_qsl(parsed.query))
            self._validate(f"{endpoint.name} query", query, endpoint.query)
            body = self._body(endpoint, lower, raw)
            record["json"] = body
            handler: Callable[[dict[str, str], dict[str, str], Any], tuple[int, Any]] = getattr(
                self, "op_" + endpoint.name)
            status, payload = handler(params, query, body)
            return status, self._headers(endpoint, payload), payload

    def _body(self, endpoint: Endpoint, headers: dict[str, str], raw: bytes) -> Any:
        if endpoint.body is None:
            if raw.strip():
                self.violations.append(f"{endpoint.name}: sent a body to an endpoint that takes none")
            return None
        if not headers.get("content-type", "").startswith("application/json"):
            self.violations.append(f"{endpoint.name}: body is not declared as application/json")
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            self.violations.append(f"{endpoint.name}: body is not JSON")
            return {}
        self._validate(f"{endpoint.name} body", body, endpoint.body)
        return body

    def _validate(self, what: str, value: Any, name: str | None) -> None:
        if name is None:
            if value:
                self.violations.append(f"{what}: the endpoint takes no parameters, got {value}")
            return
        for error in jsonschema.Draft7Validator(shape(name)).iter_errors(value):
            self.violations.append(f"{what}: {error.message} at {list(error.absolute_path)}")

    def _headers(self, endpoint: Endpoint, payload: Any) -> dict[str, str]:
        response_shape = self.response_shapes[endpoint.name]
        items = payload if isinstance(payload, list) else [payload]
        if isinstance(payload, dict) and ("message" in payload or "error" in payload):
            response_shape = "error.response"
        for item in items:
            for error in jsonschema.Draft7Validator(shape(response_shape)).iter_errors(item):
                self.violations.append(f"{endpoint.name} response: {error.message} at {list(error.absolute_path)}")
        if isinstance(payload, list):
            return {"X-Page": "1", "X-Per-Page": "20", "X-Total": str(len(payload)), "X-Total-Pages": "1"}
        return {}

    # -- objects ------------------------------------------------------------------------------------
    def _user(self, username: str) -> dict[str, Any]:
        return {"id": self.users[username], "username": username, "name": username.title(), "state": "active",
                "locked": False, "avatar_url": None, "web_url": f"https://gitlab.example/{username}"}

    def _user_by_id(self, user_id: int) -> dict[str, Any] | None:
        for name, uid in self.users.items():
            if uid == user_id:
                return self._user(name)
        return None

    def _web_url(self, iid: int) -> str:
        return f"https://gitlab.example/{self.project}/-/merge_requests/{iid}"

    def _apply(self, mr: dict[str, Any], body: dict[str, Any]) -> tuple[int, Any] | None:
        for key in ("title", "description", "target_branch"):
            if key in body:
                mr[key] = body[key]
        if isinstance(body.get("labels"), str):
            mr["labels"] = [label for label in body["labels"].split(",") if label]
        for key, field in (("reviewer_ids", "reviewers"), ("assignee_ids", "assignees")):
            if key in body:
                users = [self._user_by_id(i) for i in body[key]]
                if None in users:
                    return 400, {"message": {key: ["contains an unknown user"]}}
                mr[field] = users
        if "remove_source_branch" in body:
            mr["force_remove_source_branch"] = body["remove_source_branch"]
        mr["draft"] = mr["work_in_progress"] = mr["title"].startswith(("Draft:", "[Draft]", "(Draft)"))
        if body.get("state_event") == "close":
            mr["state"], mr["closed_at"] = "closed", TIMESTAMP
        elif body.get("state_event") == "reopen":
            mr["state"], mr["closed_at"] = "opened", None
        return None

    # -- endpoints ----------------------------------------------------------------------------------
    def op_list_merge_requests(self, params: dict[str, str], query: dict[str, str], body: Any) -> tuple[int, Any]:
        found = []
        for mr in self.mrs.values():
            if query.get("state", "all") not in ("all", mr["state"]):
                continue
            if any(query.get(k) not in (None, mr[k]) for k in ("source_branch", "target_branch")):
                continue
            found.append(mr)
        if self.hide_from_list:
            self.hide_from_list -= 1
            found = [mr for mr in found if mr["state"] != "opened"]
        return 200, found

    def op_create_merge_request(self, params: dict[str, str], query: dict[str, str], body: Any
                                ) -> tuple[int, Any]:
        for mr in self.mrs.values():
            if mr["state"] == "opened" and mr["source_branch"] == body["source_branch"]:
                return 409, {"message": ["Another open merge request already exists for this source branch: "
                                         f"!{mr['iid']}"]}
        iid = len(self.mrs) + 1
        mr: dict[str, Any] = {
            "id": 5000 + iid, "iid": iid, "project_id": self.project_id, "title": body["title"],
            "description": "", "state": "opened", "created_at": TIMESTAMP, "updated_at": TIMESTAMP,
            "merged_at": None, "closed_at": None, "target_branch": body["target_branch"],
            "source_branch": body["source_branch"], "author": self._user("handoff-bot"), "assignee": None,
            "assignees": [], "reviewers": [], "source_project_id": self.project_id,
            "target_project_id": self.project_id, "labels": [], "draft": False, "work_in_progress": False,
            "merge_when_pipeline_succeeds": False, "detailed_merge_status": "ci_still_running",
            "sha": self.head_of(body["source_branch"]) or "0" * 40, "merge_commit_sha": None, "squash": False, "should_remove_source_branch": None,
            "force_remove_source_branch": False,
            "references": {"short": f"!{iid}", "relative": f"!{iid}", "full": f"{self.project}!{iid}"},
            "web_url": self._web_url(iid),
        }
        error = self._apply(mr, body)
        if error:
            return error
        self.mrs[iid] = mr
        return 201, mr

    def _mr(self, params: dict[str, str]) -> dict[str, Any] | None:
        return self.mrs.get(int(params["iid"]))

    def op_get_merge_request(self, params: dict[str, str], query: dict[str, str], body: Any) -> tuple[int, Any]:
        mr = self._mr(params)
        return (200, mr) if mr else (404, {"message": "404 Not found"})

    def op_update_merge_request(self, params: dict[str, str], query: dict[str, str], body: Any
                                ) -> tuple[int, Any]:
        mr = self._mr(params)
        if mr is None:
            return 404, {"message": "404 Not found"}
        return self._apply(mr, body) or (200, mr)

    def op_create_note(self, params: dict[str, str], query: dict[str, str], body: Any) -> tuple[int, Any]:
        mr = self._mr(params)
        if mr is None:
            return 404, {"message": "404 Not found"}
        self.notes.append((mr["iid"], body["body"]))
        return 201, {"id": 7000 + len(self.notes), "body": body["body"], "author": self._user("handoff-bot"),
                     "created_at": TIMESTAMP, "updated_at": TIMESTAMP, "system": False, "noteable_id": mr["id"],
                     "noteable_type": "MergeRequest", "noteable_iid": mr["iid"], "resolvable": False,
                     "confidential": False, "internal": False}

    def head_pipeline(self, iid: int, sha: str) -> dict[str, Any]:
        number = 9000 + 100 * iid + self.pipelines[iid].index(sha)
        return {"id": number, "iid": number, "project_id": self.project_id, "sha": sha,
                "ref": f"refs/merge-requests/{iid}/head", "status": "running", "source": "merge_request_event",
                "created_at": TIMESTAMP, "updated_at": TIMESTAMP,
                "web_url": f"https://gitlab.example/{self.project}/-/pipelines/{number}"}

    def _has_pipeline(self, mr: dict[str, Any]) -> bool:
        return mr["sha"] in self.pipelines.get(mr["iid"], [])

    def op_list_merge_request_pipelines(self, params: dict[str, str], query: dict[str, str], body: Any
                                        ) -> tuple[int, Any]:
        mr = self._mr(params)
        if mr is None:
            return 404, {"message": "404 Not found"}
        key = (mr["iid"], mr["sha"])
        self.pipeline_polls[key] = self.pipeline_polls.get(key, 0) + 1
        shas = self.pipelines.setdefault(mr["iid"], [])
        if mr["sha"] not in shas and self.pipeline_polls[key] > self.pipeline_after:
            shas.append(mr["sha"])
        return 200, [self.head_pipeline(mr["iid"], sha) for sha in reversed(shas)]

    def op_merge_merge_request(self, params: dict[str, str], query: dict[str, str], body: Any) -> tuple[int, Any]:
        mr = self._mr(params)
        if mr is None:
            return 404, {"message": "404 Not found"}
        if body.get("sha") and body["sha"] != mr["sha"]:
            return 409, {"message": "SHA does not match HEAD of source branch"}
        self.merges.append({"iid": mr["iid"], "body": body, "pipeline_existed": self._has_pipeline(mr)})
        mr["merge_when_pipeline_succeeds"] = True
        if "should_remove_source_branch" in body:
            mr["should_remove_source_branch"] = body["should_remove_source_branch"]
        return 200, mr

    def op_list_users(self, params: dict[str, str], query: dict[str, str], body: Any) -> tuple[int, Any]:
        name = query.get("username")
        return 200, [self._user(name)] if name in self.users else []
