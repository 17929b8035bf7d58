"""A tiny config repo (one Helm values target) pushed to a bare repository, for the propose runs."""

from __future__ import annotations

import subprocess
from pathlib import Path

GIT_ENV = {"GIT_AUTHOR_NAME": "ci", "GIT_AUTHOR_EMAIL": "ci@example.com",
           "GIT_COMMITTER_NAME": "ci", "GIT_COMMITTER_EMAIL": "ci@example.com"}


def make_config_repo(tmp_path: Path) -> Path:
    origin = tmp_path / "config.git"
    work = tmp_path / "config-src"
    work.mkdir()
    (work / "values.yaml").write_text("image:\n  repository: registry.example.com/acme/web\n  tag: 1.0.0\n")
    (work / ".handoff.yaml").write_text(
        "apps:\n  web:\n    image: registry.example.com/acme/web\n    targets:\n"
        "      - {type: helm, path: values.yaml, repository: image.repository, tag: image.tag}\n"
        "environments:\n  dev: {}\n"
    )
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "init.defaultBranch=main"]
    subprocess.run([*git, "init", "-q"], cwd=work, check=True)
    subprocess.run([*git, "add", "-A"], cwd=work, check=True)
    subprocess.run([*git, "commit", "-qm", "init"], cwd=work, check=True)
    subprocess.run(["git", "clone", "-q", "--bare", str(work), str(origin)], check=True)
    return origin
