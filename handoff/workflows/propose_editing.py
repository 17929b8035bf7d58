"""The default ``Editor`` for propose/promote: the byte-exact bump library."""

from __future__ import annotations

from pathlib import Path

from handoff.edit.bump import apply_plan, current_image, plan_bump
from handoff.errors import ImageNotDeclared
from handoff.imageref import ImageRef
from handoff.workflows.propose import EditOutcome


class BumpEditor:
    def current(self, repo: Path, app: str, env: str | None) -> ImageRef | None:
        try:
            return current_image(repo, app=app, env=env)
        except ImageNotDeclared:
            return None  # e.g. a prod overlay that has never pinned the image: the proposal adds it

    def apply(self, repo: Path, image: ImageRef, app: str, env: str | None) -> EditOutcome:
        result = apply_plan(plan_bump(repo, str(image), app=app, env=env))
        return EditOutcome(bool(result.changed), tuple(str(f) for f in result.files), str(result.diff))
