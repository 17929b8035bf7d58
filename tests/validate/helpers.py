"""Compact helpers: write a tree of files, render + validate it, and assert findings as tuples."""

from __future__ import annotations

from pathlib import Path

from handoff.render import render_path
from handoff.report.model import Finding, ValidationReport
from handoff.validate import SchemaOptions, validate

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: web
spec:
  replicas: 2
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
        - name: web
          image: nginx:1.27
          ports:
            - containerPort: 80
"""


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def check(root: Path, target: str = ".", engine: str = "builtin", **options: object) -> ValidationReport:
    rendered = render_path(root / target, repo=root)
    return validate(rendered, schema_options=SchemaOptions(**options), engine=engine)  # type: ignore[arg-type]


def where(findings: tuple[Finding, ...] | list[Finding]) -> list[tuple[str, int, int, str, str]]:
    """(file, line, column, path, rule) of each finding, sorted."""
    return sorted((f.file, f.line, f.column, f.path, f.rule) for f in findings)
