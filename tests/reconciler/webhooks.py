"""Push-webhook requests as the forges send them (payload shapes from GitHub's ``push`` event and
GitLab's "Push events" webhook docs, trimmed to what a receiver reads plus some of the rest), signed
for real, and sent over HTTP to a receiver on 127.0.0.1."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import uuid
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]


def github_push(owner: str, repo: str, ref: str = "refs/heads/main", after: str = "b" * 40,
                host: str = "github.com") -> dict[str, Any]:
    return {
        "ref": ref, "before": "a" * 40, "after": after, "base_ref": None, "created": False,
        "deleted": False, "forced": False, "compare": f"https://{host}/{owner}/{repo}/compare/aaaa...bbbb",
        "commits": [{"id": after, "message": "bump web", "timestamp": "2026-12-06T23:00:00Z",
                     "url": f"https://{host}/{owner}/{repo}/commit/{after}",
                     "author": {"name": "A", "email": "a@example.com", "username": "a"},
                     "added": [], "removed": [], "modified": ["app/deployment.yaml"]}],
        "head_commit": {"id": after, "message": "bump web"},
        "repository": {
            "id": 1296269, "name": repo, "full_name": f"{owner}/{repo}", "private": True,
            "html_url": f"https://{host}/{owner}/{repo}", "url": f"https://{host}/{owner}/{repo}",
            "git_url": f"git://{host}/{owner}/{repo}.git", "ssh_url": f"git@{host}:{owner}/{repo}.git",
            "clone_url": f"https://{host}/{owner}/{repo}.git", "svn_url": f"https://{host}/{owner}/{repo}",
            "default_branch": "main", "owner": {"login": owner, "name": owner}},
        "pusher": {"name": "a", "email": "a@example.com"},
        "sender": {"login": "a", "id": 1, "type": "User"},
    }


def gitlab_push(namespace: str, project: str, ref: str = "refs/heads/main", after: str = "b" * 40,
                host: str = "gitlab.example.com") -> dict[str, Any]:
    web = f"https://{host}/{namespace}/{project}"
    return {
        "object_kind": "push", "event_name": "push", "before": "a" * 40, "after": after, "ref": ref,
        "ref_protected": True, "checkout_sha": after, "user_id": 4, "user_name": "A", "user_username": "a",
        "project_id": 15,
        "project": {"id": 15, "name": project, "web_url": web, "git_ssh_url": f"git@{host}:{namespace}/{project}.git",
                    "git_http_url": f"{web}.git", "namespace": namespace, "visibility_level": 0,
                    "path_with_namespace": f"{namespace}/{project}", "default_branch": "main",
                    "homepage": web, "url": f"git@{host}:{namespace}/{project}.git"},
        "commits": [{"id": after, "message": "bump web", "timestamp": "2026-12-06T23:00:00+00:00",
                     "url": f"{web}/-/commit/{after}", "author": {"name": "A", "email": "a@example.com"},
                     "added": [], "modified": ["app/deployment.yaml"], "removed": []}],
        "total_commits_count": 1,
        "repository": {"name": project, "url": f"git@{host}:{namespace}/{project}.git", "homepage": web,
                       "git_http_url": f"{web}.git", "git_ssh_url": f"git@{host}:{namespace}/{project}.git",
                       "visibility_level": 0},
    }


def github_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def github_headers(secret: str, body: bytes, event: str = "push",
                   delivery: str | None = None) -> dict[str, str]:
    return {"X-GitHub-Event": event, "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
            "X-Hub-Signature-256": github_signature(secret, body), "Content-Type": "application/json",
            "User-Agent": "GitHub-Hookshot/test"}


def gitlab_headers(token: str, event: str = "Push Hook") -> dict[str, str]:
    return {"X-Gitlab-Event": event, "X-Gitlab-Token": token, "X-Gitlab-Event-UUID": str(uuid.uuid4()),
            "Content-Type": "application/json"}


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload).encode()


def post(port: int, body: bytes, headers: dict[str, str], path: str = "/hook") -> Answer:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        return Answer(response.status, json.loads(response.read() or b"{}"))
    finally:
        conn.close()
