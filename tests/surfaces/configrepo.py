"""A tiny config repo (one Helm values target) pushed to a bare repository, for the propose runs."""

from __future__ import annotations

import subprocess
from pathlib import Path

CONFIG = (
    "apps:\n  web:\n    image: registry.example.com/acme/web\n    targets:\n"
    "      - {type: helm, path: values.yaml, repository: image.repository, tag: image.tag}\n"
    "environments:\n  dev: {render: {type: plain, path: manifests}}\n"
)
FILES = {
    "values.yaml": "image:\n  repository: registry.example.com/acme/web\n  tag: 1.0.0\n",
    ".handoff.yaml": CONFIG,
    "manifests/settings.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web, namespace: web}\ndata: {a: b}\n",
}
GIT_ENV = {"GIT_AUTHOR_NAME": "ci", "GIT_AUTHOR_EMAIL": "ci@example.com",
           "GIT_COMMITTER_NAME": "ci", "GIT_COMMITTER_EMAIL": "ci@example.com"}


def make_config_repo(tmp_path: Path) -> Path:
    origin = tmp_path / "config.git"
    work = tmp_path / "config-src"
    work.mkdir()
    for name, text in FILES.items():
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        (work / name).write_text(text)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "init.defaultBranch=main"]
    subprocess.run([*git, "init", "-q"], cwd=work, check=True)
    subprocess.run([*git, "add", "-A"], cwd=work, check=True)
    subprocess.run([*git, "commit", "-qm", "init"], cwd=work, check=True)
    subprocess.run(["git", "clone", "-q", "--bare", str(work), str(origin)], check=True)
    return origin
