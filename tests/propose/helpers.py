"""Small helpers shared by the propose end-to-end tests: run propose on the harness git server, read its repos."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from handoff.git.repo import GitAuth
from handoff.workflows.propose import ProposeOptions, ProposeResult, propose
from tests.harness.git_server import GitServer


def git(*args: str, cwd: Path | None = None) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def show(server: GitServer, name: str, ref: str, path: str) -> str:
    return git("--git-dir", str(server.bare_path(name)), "show", f"{ref}:{path}")


def rev(server: GitServer, name: str, ref: str) -> str:
    return git("--git-dir", str(server.bare_path(name)), "rev-parse", ref).strip()


def remote_branches(server: GitServer, name: str) -> list[str]:
    out = git("--git-dir", str(server.bare_path(name)), "for-each-ref", "--format=%(refname:short)", "refs/heads")
    return sorted(out.split())


def options(server: GitServer, url: str, image: str, app: str = "web", **kw: Any) -> ProposeOptions:
    assert server.username and server.password
    return ProposeOptions(image=image, app=app, env=kw.pop("env", "dev"), config_repo=url,
                          git_auth=GitAuth(server.username, server.password),
                          **{"forge": "local", "backoff": 0.05, "max_backoff": 0.5, **kw})


def propose_on(server: GitServer, url: str, image: str, app: str = "web", **kw: Any) -> ProposeResult:
    return propose(options(server, url, image, app, **kw))
