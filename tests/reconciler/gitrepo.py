"""A real local git repo to fetch from (file:// URL), with helpers to commit and sign."""

import os
import subprocess
from pathlib import Path

GIT_ENV = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com", "GIT_CONFIG_NOSYSTEM": "1",
           "GIT_CONFIG_GLOBAL": os.devnull}


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, env=GIT_ENV, check=True, capture_output=True,
                          text=True).stdout.strip()


class WorkRepo:
    """A working clone that commits and pushes to ``url`` (any URL git can push to)."""

    def __init__(self, path: Path, url: str, branch: str = "main") -> None:
        self.path, self.url, self.branch = path, url, branch
        if not (path / ".git").exists():
            subprocess.run(["git", "clone", "-q", url, str(path)], env=GIT_ENV, check=True, capture_output=True)
            git(path, "checkout", "-q", "-B", branch)

    def commit(self, files: dict[str, str | None], message: str = "change", *sign: str) -> str:
        for name, text in files.items():
            target = self.path / name
            if text is None:
                target.unlink()
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text)
        git(self.path, "add", "-A")
        git(self.path, *sign, "commit", "-q", "--allow-empty", "-m", message)
        git(self.path, "push", "-q", "origin", f"HEAD:{self.branch}")
        return git(self.path, "rev-parse", "HEAD")


def bare_repo(path: Path) -> str:
    git(path.parent, "init", "-q", "--bare", "-b", "main", str(path))
    return f"file://{path}"
