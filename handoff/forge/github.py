"""GitHub (and GitHub Enterprise Server via ``base_url``) through PyGithub. Only this module and
``gitlab.py`` import forge SDKs; their exceptions become handoff errors here."""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import github

from handoff.errors import ForgeConflict, ForgeError, ForgeNotFound, UsageError
from handoff.forge.base import ApiCommit, Proposal, ProposalRequest
from handoff.forge.retry import error_for
from handoff.redact import redact, register
from handoff.retry import RetryPolicy, retry

log = logging.getLogger(__name__)
T = TypeVar("T")
DEFAULT_API = "https://api.github.com"


def _message(data: Any) -> str:
    if isinstance(data, Mapping):
        parts = [str(data.get("message", ""))]
        for err in data.get("errors") or ():
            if isinstance(err, Mapping):
                parts.append(str(err.get("message") or err.get("code") or ""))
            else:
                parts.append(str(err))
        return redact("; ".join(p for p in parts if p))
    return redact(str(data))


class GitHubForge:
    name = "github"

    def __init__(self, project: str, token: str, *, base_url: str | None = None,
                 retry: RetryPolicy | None = None, throttle: bool = True) -> None:
        if project.count("/") != 1:
            raise UsageError(f"GitHub repository must be 'owner/name', got {project!r}")
        register(token)
        self._owner = project.split("/", maxsplit=1)[0]
        self._retry = retry or RetryPolicy()
        self._github_exc = github.GithubException
        # PyGithub's own pacing follows GitHub's advice (1 s between writes); tests turn it off.
        self._gh = github.Github(auth=github.Auth.Token(token), base_url=base_url or DEFAULT_API, retry=None,
                                 lazy=True,
                                 seconds_between_requests=0.25 if throttle else None,
                                 seconds_between_writes=1.0 if throttle else None)
        self._repo = self._gh.get_repo(project)

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        def once() -> T:
            try:
                return fn()
            except self._github_exc as e:
                message = f"{what}: {_message(e.data)}"
                raise error_for(e.status, message, e.headers, self._retry.clock()) from e
            except Exception as e:
                if type(e).__module__.startswith(("requests", "urllib3")):
                    raise ForgeError(redact(f"{what}: cannot reach GitHub: {e}")) from e
                raise
        return retry(once, self._retry, what=f"GitHub {what}")

    def branch_files(self, request: ProposalRequest, state: str) -> Mapping[str, bytes]:
        return {}

    def _proposal(self, pr: Any) -> Proposal:
        return Proposal(int(pr.number), str(pr.html_url), str(pr.state), str(pr.title or ""),
                        str(pr.body or ""))

    def is_current(self, proposal: Proposal, request: ProposalRequest) -> bool:
        return (proposal.title, proposal.body) == (redact(request.title), redact(request.body))

    def find_open(self, head: str, base: str) -> Proposal | None:
        def find() -> Any:
            for pr in self._repo.get_pulls(state="open", head=f"{self._owner}:{head}", base=base):
                return pr
            return None
        pr = self._call("list pull requests", find)
        return None if pr is None else self._proposal(pr)

    def create(self, request: ProposalRequest) -> Proposal:
        pr = self._call("create pull request", lambda: self._repo.create_pull(
            base=request.base, head=request.head, title=redact(request.title), body=redact(request.body),
            draft=request.draft, maintainer_can_modify=False))
        self._extras(pr, request)
        return self._proposal(pr)

    def update(self, proposal: Proposal, request: ProposalRequest) -> Proposal:
        pr = self._call("get pull request", lambda: self._repo.get_pull(proposal.number))
        self._call("update pull request", lambda: pr.edit(title=redact(request.title),
                                                           body=redact(request.body)))
        self._extras(pr, request)
        return self._proposal(pr)

    def close(self, proposal: Proposal, comment: str) -> Proposal:
        pr = self._call("get pull request", lambda: self._repo.get_pull(proposal.number))
        self._call("comment on pull request", lambda: pr.create_issue_comment(redact(comment)))
        self._call("close pull request", lambda: pr.edit(state="closed"))
        return Proposal(proposal.number, proposal.url, "closed")

    def _extras(self, pr: Any, request: ProposalRequest) -> None:
        if request.labels:
            # the documented body is {"labels": [...]}; PyGithub's add_to_labels sends a bare array
            labels = {"labels": list(request.labels)}
            self._call("add labels", lambda: self._gh.requester.requestJsonAndCheck(
                "POST", f"{pr.issue_url}/labels", input=labels))
        if request.assignees:
            self._call("add assignees", lambda: pr.add_to_assignees(*request.assignees))
        users = [r for r in request.reviewers if "/" not in r]
        teams = [r.split("/", 1)[1] for r in request.reviewers if "/" in r]
        if users or teams:
            try:
                self._call("request reviewers", lambda: pr.create_review_request(reviewers=users,
                                                                                 team_reviewers=teams))
            except ForgeConflict as e:  # e.g. the PR author cannot review their own PR
                log.warning("could not request reviewers: %s", e)
        if request.delete_branch:
            log.info("GitHub deletes merged branches per repository setting (delete_branch_on_merge)")
        if request.auto_merge:
            self._call("enable auto-merge", lambda: pr.enable_automerge(merge_method="MERGE"))

    # -- --sign api: commits created by GitHub itself (signed, "Verified") through the Git data API ----
    def _json(self, what: str, verb: str, path: str, body: Any = None) -> Any:
        url = f"{self._repo.url}{path}"
        return self._call(what, lambda: self._gh.requester.requestJsonAndCheck(verb, url, input=body))[1]

    def commit_via_api(self, commit: ApiCommit) -> str | None:
        """Blobs, a tree on the parent's tree, a commit with no author/committer (so GitHub signs it as
        the token's identity, as create-pull-request's ``sign-commits`` does), then move the ref."""
        entries: list[dict[str, Any]] = []
        for change in commit.changes:
            if change.content is None:
                entries.append({"path": change.path, "mode": change.mode, "type": "blob", "sha": None})
                continue
            blob = self._json("create blob", "POST", "/git/blobs", {
                "content": base64.b64encode(change.content).decode(), "encoding": "base64"})
            entries.append({"path": change.path, "mode": change.mode, "type": "blob", "sha": blob["sha"]})
        tree = self._json("create tree", "POST", "/git/trees",
                          {"base_tree": commit.base_tree, "tree": entries})
        created = self._json("create commit", "POST", "/git/commits", {
            "message": redact(commit.message), "tree": tree["sha"], "parents": [commit.parent]})
        sha = str(created["sha"])
        ref = f"heads/{commit.branch}"
        try:
            if commit.lease is None:
                self._json("update branch", "PATCH", f"/git/refs/{ref}", {"sha": sha, "force": False})
                return sha
            try:
                current = str(self._json("get branch", "GET", f"/git/ref/{ref}")["object"]["sha"])
            except ForgeNotFound:
                current = ""
            # the Git data API has no compare-and-swap for a forced update: check, then move
            if current != commit.lease:
                return None
            if current:
                self._json("update branch", "PATCH", f"/git/refs/{ref}", {"sha": sha, "force": True})
            else:
                self._json("create branch", "POST", "/git/refs", {"ref": f"refs/{ref}", "sha": sha})
        except ForgeConflict as e:  # 422: not a fast-forward / reference already exists: somebody won
            log.info("branch %s moved while committing through the API: %s", commit.branch, e)
            return None
        return sha
