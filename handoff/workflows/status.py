"""``handoff status``: per app × environment, the image Git declares (read as promote reads it), the
revision applied there and its health (the newest commit of the base branch carrying that
environment's commit status), and whether a promotion is pending (the next environment declares a
different image). Data, and its table, markdown and JSON forms; the CLI only prints them."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

from handoff.commitstatus import CommitStatus, StatusBackend
from handoff.config import load_config
from handoff.git.repo import GitAuth
from handoff.workflows.wait import DEFAULT_DEPTH, config_clone, declared_images, recent_commits


@dataclass(frozen=True)
class Row:
    app: str
    env: str
    declared: str  # "" when the app declares no image in env
    applied_revision: str  # "" when no commit in the window carries env's status
    health: str  # applying | healthy | degraded | failed | unknown
    description: str
    promotion_pending: str  # the next environment, when it declares a different image; else ""


@dataclass(frozen=True)
class StatusReport:
    base: str
    commit: str
    rows: tuple[Row, ...]

    def to_json(self) -> str:
        return json.dumps({"base": self.base, "commit": self.commit, "rows": [asdict(r) for r in self.rows]},
                          indent=2)


def latest_status(backend: StatusBackend, commits: Sequence[str],
                  contexts: Sequence[str]) -> dict[str, tuple[str, CommitStatus]]:
    """For each context, the newest of ``commits`` (newest first) carrying it, and that status; each
    commit is read at most once, and the walk stops when every context is found."""
    found: dict[str, tuple[str, CommitStatus]] = {}
    for commit in commits:
        if len(found) == len(contexts):
            break
        statuses: Mapping[str, CommitStatus] = backend.read(commit)
        for context in contexts:
            if context not in found and context in statuses:
                found[context] = (commit, statuses[context])
    return found


def status(config_repo: str, backend: StatusBackend, *, base: str | None = None, auth: GitAuth | None = None,
           context: str = "handoff/{env}", depth: int = DEFAULT_DEPTH) -> StatusReport:
    with config_clone(config_repo, auth, None) as repo:
        branch = base or repo.default_branch()
        commits = recent_commits(repo, branch, depth)
        repo.checkout(commits[0])
        config = load_config(repo.path)
        envs = list(config.environments) if config else []
        declared = {env: declared_images(repo.path, env, None) for env in envs}
        contexts = {env: context.replace("{env}", env) for env in envs}
        live = latest_status(backend, commits, list(contexts.values()))
        rows = []
        apps = sorted(config.apps) if config else []
        for app in apps:
            for index, env in enumerate(envs):
                image = declared[env].get(app)
                nxt = envs[index + 1] if index + 1 < len(envs) else None
                pending = nxt if nxt and image and str(declared[nxt].get(app) or "") != str(image) else ""
                commit, seen = live.get(contexts[env], ("", None))
                rows.append(Row(app, env, str(image or ""), commit, seen.state if seen else "unknown",
                                seen.description if seen else "", pending or ""))
        return StatusReport(branch, commits[0], tuple(rows))


def table(report: StatusReport, *, markdown: bool = False) -> str:
    header = ("app", "env", "declared image", "applied", "health", "promotion")
    body = [(r.app, r.env, r.declared or "-", r.applied_revision[:12] or "-", r.health,
             f"pending to {r.promotion_pending}" if r.promotion_pending else "-") for r in report.rows]
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in body]
        return "\n".join(lines)
    widths = [max(len(str(c)) for c in column) for column in zip(header, *body, strict=False)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
                     for row in (header, *body))
