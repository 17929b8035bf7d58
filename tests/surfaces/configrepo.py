"""A tiny config repo (one Helm values target, rendered by a one-template chart) pushed to a bare
repository, for the propose runs. The environment renders the values file it bumps: a bump is proven by
rendering, and one whose render does not carry the edit is refused."""

from __future__ import annotations

import subprocess
from pathlib import Path

CONFIG = (
    "apps:\n  web:\n    image: registry.example.com/acme/web\n    targets:\n"
    "      - {type: helm, path: values.yaml, repository: image.repository, tag: image.tag}\n"
    "environments:\n  dev: {render: {type: helm, path: chart, values: [values.yaml], release: web}}\n"
)
FILES = {
    "values.yaml": "image:\n  repository: registry.example.com/acme/web\n  tag: 1.0.0\n",
    ".handoff.yaml": CONFIG,
    "chart/Chart.yaml": "apiVersion: v2\nname: web\nversion: 0.1.0\n",
    "chart/templates/deployment.yaml": (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: web}\nspec:\n"
        "  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n"
        "    spec:\n      containers:\n      - name: web\n"
        "        image: \"{{ .Values.image.repository }}:{{ .Values.image.tag }}"
        "{{ with .Values.image.digest }}@{{ . }}{{ end }}\"\n"),
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
