"""``handoff status``: per app × environment, the image Git declares (read as promote reads it), the
revision applied there and its health (the newest commit of the base branch whose status for that
environment says it was applied: applying, healthy or degraded), a newer revision the environment
failed to apply (``failed`` is posted on a revision the reconciler could not apply: the environment
still runs the older one), and whether a promotion is pending (the next environment declares a
different image). Data, and its table, markdown and JSON forms; the CLI only prints them."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

from handoff.commitstatus import FAILED, CommitStatus, StatusBackend
from handoff.config import load_config
from handoff.git.repo import GitAuth
from handoff.workflows.status_context import EnvHistory, StatusContext
from handoff.workflows.wait import DEFAULT_DEPTH, config_clone, declared_images, recent_commits


@dataclass(frozen=True)
class Row:
    app: str
    env: str
    declared: str  # "" when the app declares no image in env
    applied_revision: str  # "" when no commit in the window carries an applied status of env
    health: str  # of applied_revision: applying | healthy | degraded; failed (only failures) | unknown
    description: str
    promotion_pending: str  # the next environment, when it declares a different image; else ""
    failed_revision: str = ""  # the newest commit, newer than applied_revision, env failed to apply
    failed_description: str = ""


@dataclass(frozen=True)
class StatusReport:
    base: str
    commit: str
    rows: tuple[Row, ...]

    def to_json(self) -> str:
        rows = [_json_row(r) for r in self.rows]
        return json.dumps({"base": self.base, "commit": self.commit, "rows": rows}, indent=2)


def _json_row(row: Row) -> dict[str, str]:
    """``row`` as JSON; the failed_* keys only when the environment failed a newer revision."""
    data = asdict(row)
    if not row.failed_revision:
        del data["failed_revision"], data["failed_description"]
    return data


@dataclass(frozen=True)
class Latest:
    """A context's newest applied status on the commits read, and a newer failure, if any."""

    applied: tuple[str, CommitStatus] | None = None  # (commit, status) of applying | healthy | degraded
    failed: tuple[str, CommitStatus] | None = None  # the newest failed one newer than ``applied``


def latest_status(backend: StatusBackend, commits: Sequence[str],
                  contexts: Sequence[StatusContext]) -> dict[str, Latest]:
    """For each context found on ``commits`` (newest first), its newest applied status and the newest
    failure newer than it (a source context missing on a commit, seen on the newest older one with any,
    is applying there); each commit is read at most once, and the walk stops when every context has an
    applied status."""
    read: dict[str, Mapping[str, CommitStatus]] = {}

    def statuses_of(commit: str) -> Mapping[str, CommitStatus]:
        if commit not in read:
            read[commit] = backend.read(commit)
        return read[commit]

    histories = {context.filled: EnvHistory(statuses_of, context, commits) for context in contexts}
    found: dict[str, Latest] = {}
    for commit in commits:
        if sum(1 for latest in found.values() if latest.applied) == len(contexts):
            break
        statuses = statuses_of(commit)
        for context in contexts:
            history = histories[context.filled]
            latest, seen = found.get(context.filled, Latest()), history.status_at(commit, statuses)
            if seen is None or latest.applied is not None:
                continue
            if seen.state != FAILED:
                found[context.filled] = Latest((commit, seen), latest.failed)
            elif latest.failed is None:
                found[context.filled] = Latest(None, (commit, seen))
    return found


def _row(app: str, env: str, image: str, pending: str, latest: Latest) -> Row:
    failed_commit, failed = latest.failed or ("", None)
    if latest.applied is None:
        return Row(app, env, image, "", failed.state if failed else "unknown",
                   failed.description if failed else "", pending, failed_commit,
                   failed.description if failed else "")
    commit, applied = latest.applied
    return Row(app, env, image, commit, applied.state, applied.description, pending, failed_commit,
               failed.description if failed else "")


def status(config_repo: str, backend: StatusBackend, *, base: str | None = None, auth: GitAuth | None = None,
           context: str = "handoff/{env}", depth: int = DEFAULT_DEPTH) -> StatusReport:
    with config_clone(config_repo, auth, None) as repo:
        branch = base or repo.default_branch()
        commits = recent_commits(repo, branch, depth)
        repo.checkout(commits[0])
        config = load_config(repo.path)
        envs = list(config.environments) if config else []
        declared = {env: declared_images(repo.path, env, None) for env in envs}
        contexts = {env: StatusContext.of(context, env) for env in envs}
        live = latest_status(backend, commits, list(contexts.values()))
        rows = []
        apps = sorted(config.apps) if config else []
        for app in apps:
            for index, env in enumerate(envs):
                image = declared[env].get(app)
                nxt = envs[index + 1] if index + 1 < len(envs) else None
                pending = nxt if nxt and image and str(declared[nxt].get(app) or "") != str(image) else ""
                latest = live.get(contexts[env].filled, Latest())
                rows.append(_row(app, env, str(image or ""), pending or "", latest))
        return StatusReport(branch, commits[0], tuple(rows))


def _health(row: Row) -> str:
    if row.failed_revision and row.applied_revision:
        return f"{row.health}; {row.failed_revision[:12]} failed (not applied)"
    if row.failed_revision:
        return f"failed at {row.failed_revision[:12]} (not applied)"
    return row.health


def table(report: StatusReport, *, markdown: bool = False) -> str:
    header = ("app", "env", "declared image", "applied", "health", "promotion")
    body = [(r.app, r.env, r.declared or "-", r.applied_revision[:12] or "-", _health(r),
             f"pending to {r.promotion_pending}" if r.promotion_pending else "-") for r in report.rows]
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in body]
        return "\n".join(lines)
    widths = [max(len(str(c)) for c in column) for column in zip(header, *body, strict=False)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
                     for row in (header, *body))
