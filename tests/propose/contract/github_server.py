"""A local GitHub REST + GraphQL server for contract tests.

Every request is checked against GitHub's official OpenAPI description (npm ``@octokit/openapi``,
fetched by ``tools/fetch-octokit-openapi.sh``): the operation must exist for the method and path,
query parameters must be declared and valid, and JSON bodies must validate against the operation's
request schema. Every response is built from the operation's own example and validated against its
response schema before it is sent. Anything that does not match is recorded in ``violations``.
"""

from __future__ import annotations

import base64
import copy
import functools
import hashlib
import json
import re
import subprocess
import threading
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema

from tests.propose.contract.jsonhttp import JsonApiServer

ROOT = Path(__file__).resolve().parents[3]
PREFIX = "/api/v3"


@functools.cache
def load_spec() -> dict[str, Any]:
    out = subprocess.run(["bash", str(ROOT / "tools" / "fetch-octokit-openapi.sh")], check=True,
                         capture_output=True, text=True).stdout.strip()
    deref = Path(out).with_name("api.github.com.deref.json")
    return json.loads(deref.read_text())


def openapi_to_jsonschema(node: Any) -> Any:
    """OpenAPI 3.0 ``nullable: true`` becomes a JSON Schema null alternative."""
    if isinstance(node, list):
        return [openapi_to_jsonschema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: openapi_to_jsonschema(v) for k, v in node.items() if k not in ("nullable", "example", "examples")}
    if node.get("nullable"):
        if isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
            if "enum" in out:
                out["enum"] = [*out["enum"], None]
        else:
            return {"anyOf": [out, {"type": "null"}]}
    return out


class Operation:
    def __init__(self, method: str, template: str, op: dict[str, Any]) -> None:
        self.method = method
        self.template = template
        self.op = op
        pattern = re.sub(r"\\\{([a-z_]+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
        if "/git/ref" in template:  # a git ref ("heads/handoff/prod/web") keeps its slashes
            pattern = pattern.replace("(?P<ref>[^/]+)", "(?P<ref>.+)")
        self.regex = re.compile(f"^{pattern}$")

    @property
    def id(self) -> str:
        return str(self.op.get("operationId"))

    def params(self, where: str) -> dict[str, dict[str, Any]]:
        return {p["name"]: p for p in self.op.get("parameters", []) if p.get("in") == where}

    def request_schema(self) -> dict[str, Any] | None:
        body = self.op.get("requestBody")
        if not body:
            return None
        return openapi_to_jsonschema(body["content"]["application/json"]["schema"])

    def response(self, status: int) -> tuple[dict[str, Any] | None, Any]:
        resp = self.op["responses"].get(str(status))
        if resp is None:
            raise AssertionError(f"{self.id} has no documented {status} response")
        content = (resp.get("content") or {}).get("application/json")
        if not content:
            return None, None
        example = None
        for ex in (content.get("examples") or {}).values():
            example = ex.get("value")
            break
        return openapi_to_jsonschema(content["schema"]), copy.deepcopy(example)


class Router:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.ops: list[Operation] = []
        for template, methods in spec["paths"].items():
            for method, op in methods.items():
                if method in ("get", "post", "put", "patch", "delete"):
                    self.ops.append(Operation(method.upper(), template, op))
        # literal segments beat parameters: /pulls/comments before /pulls/{pull_number}
        self.ops.sort(key=lambda o: o.template.count("{"))

    def match(self, method: str, path: str) -> tuple[Operation, dict[str, str]] | None:
        for op in self.ops:
            if op.method == method:
                m = op.regex.match(path)
                if m:
                    return op, {k: urllib.parse.unquote(v) for k, v in m.groupdict().items()}
        return None


def _coerce(value: str, schema: dict[str, Any]) -> Any:
    kind = schema.get("type")
    if kind == "integer" and re.fullmatch(r"-?\d+", value):
        return int(value)
    if kind == "boolean" and value in ("true", "false"):
        return value == "true"
    return value


class GitHubContractServer(JsonApiServer):
    """State: ``pulls`` by number; knobs: ``fail_next`` (status, headers, body) queued answers."""

    content_type = "application/json; charset=utf-8"

    def __init__(self, token: str, owner: str = "acme", repo: str = "config") -> None:
        self.router = Router(load_spec())
        self.token = token
        self.owner, self.repo = owner, repo
        self.violations: list[str] = []
        self.requests: list[dict[str, Any]] = []
        self.pulls: dict[int, dict[str, Any]] = {}
        self.comments: list[tuple[int, str]] = []
        self.auto_merge: set[int] = set()
        self.blobs: dict[str, bytes] = {}
        self.trees: dict[str, dict[str, Any]] = {}
        self.commits: dict[str, dict[str, Any]] = {}
        self.refs: dict[str, str] = {}
        self.queued: list[tuple[int, dict[str, str], Any]] = []
        self.lock = threading.Lock()
        self._start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{PREFIX}"

    def fail_next(self, status: int, headers: dict[str, str] | None = None, message: str = "") -> None:
        self.queued.append((status, headers or {}, {"message": message or f"status {status}",
                                                   "documentation_url": "https://docs.github.com/rest"}))

    # -- request handling ---------------------------------------------------------------------------
    def encode(self, body: Any) -> bytes:
        text = "" if body is None else json.dumps(body)
        # like a GitHub Enterprise server, links point back at this server and repository
        text = text.replace("https://api.github.com", self.base_url)
        return text.replace("octocat/Hello-World", f"{self.owner}/{self.repo}").encode()

    def handle(self, method: str, raw_path: str, headers: dict[str, str], raw: bytes
               ) -> tuple[int, dict[str, str], Any]:
        with self.lock:
            parsed = urllib.parse.urlsplit(raw_path)
            self.requests.append({"method": method, "path": raw_path, "headers": headers,
                                  "body": raw.decode(errors="replace")})
            auth = {k.lower(): v for k, v in headers.items()}.get("authorization", "")
            if auth not in (f"token {self.token}", f"Bearer {self.token}"):
                return 401, {}, {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"}
            if self.queued:
                return self.queued.pop(0)
            if parsed.path == "/api/graphql":
                return self._graphql(raw)
            if not parsed.path.startswith(PREFIX):
                self.violations.append(f"{method} {parsed.path}: outside the API prefix")
                return 404, {}, {"message": "Not Found"}
            path = parsed.path[len(PREFIX):]
            found = self.router.match(method, path)
            if found is None:
                self.violations.append(f"{method} {path}: no such operation in the OpenAPI description")
                return 404, {}, {"message": "Not Found"}
            op, path_params = found
            body = self._check_request(op, path_params, urllib.parse.parse_qsl(parsed.query), raw)
            handler: Callable[..., tuple[int, Any]] | None = getattr(self, "op_" + op.id.replace("/", "_")
                                                                     .replace("-", "_"), None)
            if handler is None:
                self.violations.append(f"{op.id}: contract server has no handler")
                return 501, {}, {"message": "not implemented"}
            status, payload = handler(path_params, dict(urllib.parse.parse_qsl(parsed.query)), body)
            self._check_response(op, status, payload)
            return status, {}, payload

    def _check_request(self, op: Operation, path_params: dict[str, str], query: list[tuple[str, str]],
                       raw: bytes) -> Any:
        for name, spec in op.params("path").items():
            try:
                jsonschema.validate(_coerce(path_params[name], spec["schema"]), openapi_to_jsonschema(spec["schema"]))
            except jsonschema.ValidationError as e:
                self.violations.append(f"{op.id}: path parameter {name}: {e.message}")
        declared = op.params("query")
        for name, value in query:
            if name not in declared:
                self.violations.append(f"{op.id}: undeclared query parameter {name!r}")
                continue
            schema = declared[name].get("schema", {})
            try:
                jsonschema.validate(_coerce(value, schema), openapi_to_jsonschema(schema))
            except jsonschema.ValidationError as e:
                self.violations.append(f"{op.id}: query parameter {name}: {e.message}")
        schema = op.request_schema()
        if schema is None:
            if raw.strip():
                self.violations.append(f"{op.id}: sent a body to an operation that takes none")
            return None
        try:
            body = json.loads(raw or b"null")
        except ValueError:
            self.violations.append(f"{op.id}: body is not JSON")
            return None
        for error in jsonschema.Draft7Validator(schema).iter_errors(body):
            self.violations.append(f"{op.id}: request body: {error.message} at {list(error.absolute_path)}")
        return body

    def _check_response(self, op: Operation, status: int, payload: Any) -> None:
        schema, _ = op.response(status)
        if schema is not None:
            for error in jsonschema.Draft7Validator(schema).iter_errors(payload):
                self.violations.append(f"{op.id}: response {status}: {error.message} at {list(error.absolute_path)}")

    # -- operations ---------------------------------------------------------------------------------
    def _example(self, op_id: str, status: int) -> Any:
        for op in self.router.ops:
            if op.id == op_id:
                return op.response(status)[1]
        raise AssertionError(op_id)

    def _pull(self, number: int, title: str, body: str | None, head: str, base: str, draft: bool) -> dict[str, Any]:
        example = json.dumps(self._example("pulls/get", 200))
        pr = json.loads(example.replace("/1347", f"/{number}"))  # the example's links name PR 1347
        html = f"https://github.example/{self.owner}/{self.repo}/pull/{number}"
        pr.update(number=number, title=title, body=body, state="open", draft=draft, id=1000 + number,
                  node_id=f"PR_node{number}", html_url=html, labels=[], requested_reviewers=[], requested_teams=[], assignees=[],
                  merged=False, auto_merge=None)
        pr["head"]["ref"], pr["base"]["ref"] = head, base
        return pr

    def op_pulls_list(self, params: dict[str, str], query: dict[str, str], body: Any) -> tuple[int, Any]:
        head = query.get("head", "")
        result = []
        for pr in self.pulls.values():
            if query.get("state", "open") not in ("all", pr["state"]):
                continue
            if head and head != f"{self.owner}:{pr['head']['ref']}":
                continue
            if query.get("base") and query["base"] != pr["base"]["ref"]:
                continue
            result.append(self._simple(pr))
        return 200, result

    def _simple(self, pr: dict[str, Any]) -> dict[str, Any]:
        example = self._example("pulls/list", 200)[0]
        return {k: pr.get(k, v) for k, v in example.items()}

    def op_pulls_create(self, params: dict[str, str], query: dict[str, str], body: Any) -> tuple[int, Any]:
        for pr in self.pulls.values():
            if pr["state"] == "open" and pr["head"]["ref"] == body["head"] and pr["base"]["ref"] == body["base"]:
                return 422, {"message": "Validation Failed", "documentation_url": "https://docs.github.com/rest",
                             "errors": [{"resource": "PullRequest", "code": "custom", "field": "head",
                                         "message": f"A pull request already exists for {self.owner}:{body['head']}."}]}
        number = len(self.pulls) + 1
        self.pulls[number] = self._pull(number, body["title"], body.get("body"), body["head"], body["base"],
                                        bool(body.get("draft")))
        return 201, self.pulls[number]

    def op_pulls_get(self, params: dict[str, str], query: dict[str, str], body: Any) -> tuple[int, Any]:
        pr = self.pulls.get(int(params["pull_number"]))
        return (200, pr) if pr else (404, {"message": "Not Found", "documentation_url": "x"})

    def op_pulls_update(self, params: dict[str, str], query: dict[str, str], body: Any) -> tuple[int, Any]:
        pr = self.pulls[int(params["pull_number"])]
        for key in ("title", "body", "state"):
            if key in body:
                pr[key] = body[key]
        return 200, pr

    def op_issues_add_labels(self, params: dict[str, str], query: dict[str, str], body: Any) -> tuple[int, Any]:
        pr = self.pulls[int(params["issue_number"])]
        names = body if isinstance(body, list) else body.get("labels", [])
        template = self._example("issues/add-labels", 200)[0]
        for name in names:
            if name not in [label["name"] for label in pr["labels"]]:
                pr["labels"].append({**template, "name": name})
        return 200, pr["labels"]

    def op_issues_add_assignees(self, params: dict[str, str], query: dict[str, str], body: Any) -> tuple[int, Any]:
        pr = self.pulls[int(params["issue_number"])]
        template = self._example("issues/add-assignees", 201)["assignees"][0]
        pr["assignees"] = [{**template, "login": login} for login in body["assignees"]]
        issue = self._example("issues/add-assignees", 201)
        issue.update(number=pr["number"], assignees=pr["assignees"])
        return 201, issue

    def op_pulls_request_reviewers(self, params: dict[str, str], query: dict[str, str], body: Any
                                   ) -> tuple[int, Any]:
        pr = self.pulls[int(params["pull_number"])]
        template = self._example("pulls/get", 200)["requested_reviewers"][0]
        pr["requested_reviewers"] = [{**template, "login": login} for login in body.get("reviewers", [])]
        pr["requested_teams"] = [{**t, "slug": s, "parent": None} for s in body.get("team_reviewers", [])
                                 for t in self._example("pulls/get", 200)["requested_teams"][:1]]
        return 201, self._simple(pr)

    def op_issues_create_comment(self, params: dict[str, str], query: dict[str, str], body: Any
                                 ) -> tuple[int, Any]:
        number = int(params["issue_number"])
        self.comments.append((number, body["body"]))
        comment = self._example("issues/create-comment", 201)
        comment["body"] = body["body"]
        return 201, comment

    def _graphql(self, raw: bytes) -> tuple[int, dict[str, str], Any]:
        try:
            request = json.loads(raw)
        except ValueError:
            self.violations.append("graphql: body is not JSON")
            return 400, {}, {"message": "Problems parsing JSON"}
        query, variables = request.get("query", ""), request.get("variables") or {}
        if set(request) - {"query", "variables", "operationName"} or not isinstance(query, str):
            self.violations.append(f"graphql: unexpected request keys {sorted(request)}")
        if "enablePullRequestAutoMerge" not in query:
            self.violations.append(f"graphql: unsupported query {query[:80]!r}")
            return 200, {}, {"errors": [{"message": "unsupported"}]}
        payload = variables.get("input", variables)
        allowed = {"pullRequestId", "mergeMethod", "authorEmail", "clientMutationId", "commitBody",
                   "commitHeadline", "expectedHeadOid"}
        if set(payload) - allowed or "pullRequestId" not in payload:
            self.violations.append(f"graphql: EnablePullRequestAutoMergeInput has {sorted(payload)}")
        if payload.get("mergeMethod") not in (None, "MERGE", "SQUASH", "REBASE"):
            self.violations.append(f"graphql: bad mergeMethod {payload.get('mergeMethod')}")
        for number, pr in self.pulls.items():
            if pr["node_id"] == payload.get("pullRequestId"):
                self.auto_merge.add(number)
                return 200, {}, {"data": {"enablePullRequestAutoMerge": {
                    "actor": {"avatarUrl": "", "login": "bot", "resourcePath": "/bot", "url": ""},
                    "clientMutationId": None}}}
        return 200, {}, {"errors": [{"type": "NOT_FOUND", "message": "Could not resolve to a node"}]}

    # -- Git data API (--sign api) ------------------------------------------------------------------
    @staticmethod
    def _sha(kind: str, data: bytes) -> str:
        return hashlib.sha1(f"{kind} {len(data)}\0".encode() + data).hexdigest()

    def op_git_create_blob(self, params: dict[str, str], query: dict[str, str], body: Any) -> tuple[int, Any]:
        data = base64.b64decode(body["content"]) if body.get("encoding") == "base64" else body["content"].encode()
        sha = self._sha("blob", data)
        self.blobs[sha] = data
        return 201, {"url": f"https://api.github.com/repos/octocat/Hello-World/git/blobs/{sha}", "sha": sha}

    def op_git_create_tree(self, params: dict[str, str], query: dict[str, str], body: Any) -> tuple[int, Any]:
        for entry in body["tree"]:
            if entry.get("sha") is not None and entry["sha"] not in self.blobs:
                return 422, {"message": f"tree.sha {entry['sha']} is not a valid blob",
                             "documentation_url": "https://docs.github.com/rest"}
        sha = self._sha("tree", json.dumps(body, sort_keys=True).encode())
        self.trees[sha] = body
        example = self._example("git/create-tree", 201)
        example.update(sha=sha, url=f"https://api.github.com/repos/octocat/Hello-World/trees/{sha}", truncated=False)
        example["tree"] = [{**example["tree"][0], "path": e["path"], "mode": e["mode"], "type": e["type"],
                            "sha": e["sha"], "url": "https://api.github.com/x"} for e in body["tree"] if e["sha"]]
        return 201, example

    def op_git_create_commit(self, params: dict[str, str], query: dict[str, str], body: Any) -> tuple[int, Any]:
        if body["tree"] not in self.trees:
            return 422, {"message": "Tree SHA does not exist", "documentation_url": "https://docs.github.com/rest"}
        sha = self._sha("commit", json.dumps(body, sort_keys=True).encode())
        self.commits[sha] = body
        example = self._example("git/create-commit", 201)
        example.update(sha=sha, message=body["message"], node_id=f"C_{sha[:10]}",
                       url=f"https://api.github.com/repos/octocat/Hello-World/git/commits/{sha}")
        example["tree"] = {**example["tree"], "sha": body["tree"]}
        example["parents"] = [{**example["parents"][0], "sha": p} for p in body["parents"]]
        # no author/committer given: GitHub commits as the token's identity and signs it
        example["verification"] = {**example["verification"], "verified": True, "reason": "valid"}
        return 201, example

    def _ref(self, name: str, status: int) -> tuple[int, Any]:
        example = self._example("git/get-ref", 200)
        sha = self.refs[name]
        example.update(ref=name, node_id=f"REF_{sha[:8]}", url=f"https://api.github.com/repos/octocat/Hello-World/git/{name}")
        example["object"] = {**example["object"], "type": "commit", "sha": sha}
        return status, example

    def op_git_get_ref(self, params: dict[str, str], query: dict[str, str], body: Any) -> tuple[int, Any]:
        name = "refs/" + params["ref"]
        if name not in self.refs:
            return 404, {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}
        return self._ref(name, 200)

    def op_git_create_ref(self, params: dict[str, str], query: dict[str, str], body: Any) -> tuple[int, Any]:
        if body["ref"] in self.refs:
            return 422, {"message": "Reference already exists", "documentation_url": "https://docs.github.com/rest"}
        self.refs[body["ref"]] = body["sha"]
        return self._ref(body["ref"], 201)

    def op_git_update_ref(self, params: dict[str, str], query: dict[str, str], body: Any) -> tuple[int, Any]:
        name = "refs/" + params["ref"]
        if name not in self.refs:
            return 422, {"message": "Reference does not exist", "documentation_url": "https://docs.github.com/rest"}
        parents = self.commits.get(body["sha"], {}).get("parents", [])
        if not body.get("force") and self.refs[name] not in parents:
            return 422, {"message": "Update is not a fast forward", "documentation_url": "https://docs.github.com/rest"}
        self.refs[name] = body["sha"]
        return self._ref(name, 200)
