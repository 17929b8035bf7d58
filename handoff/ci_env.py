"""Where a proposal came from: the source commit and pipeline URL from GitHub Actions, GitLab CI
or Jenkins environment variables (whichever is present)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class CiContext:
    system: str = ""
    source_repo: str = ""
    source_commit: str = ""
    pipeline_url: str = ""


def detect(env: Mapping[str, str] | None = None) -> CiContext:
    e = os.environ if env is None else env
    if e.get("GITHUB_ACTIONS") == "true" or e.get("GITHUB_RUN_ID"):
        server = e.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
        repo = e.get("GITHUB_REPOSITORY", "")
        run = e.get("GITHUB_RUN_ID", "")
        url = f"{server}/{repo}/actions/runs/{run}" if repo and run else ""
        attempt = e.get("GITHUB_RUN_ATTEMPT")
        if url and attempt and attempt != "1":
            url += f"/attempts/{attempt}"
        return CiContext("github", f"{server}/{repo}" if repo else "", e.get("GITHUB_SHA", ""), url)
    if e.get("GITLAB_CI") == "true" or e.get("CI_PIPELINE_URL"):
        return CiContext("gitlab", e.get("CI_PROJECT_URL", ""), e.get("CI_COMMIT_SHA", ""),
                         e.get("CI_PIPELINE_URL", ""))
    if e.get("JENKINS_URL") or e.get("BUILD_URL"):
        return CiContext("jenkins", e.get("GIT_URL", ""), e.get("GIT_COMMIT", ""), e.get("BUILD_URL", ""))
    return CiContext()
