"""The handoff itself: bump an image in the config repo, validate, commit, push, open/update one
rolling PR per (app, env) — or commit straight to the environment branch in direct mode.

Every attempt starts from a fresh fetch and re-runs the edit on that tree (never a textual rebase),
so racing CI jobs never lose or duplicate an update: a rejected push just means "try again".
"""

from __future__ import annotations

import contextlib
import difflib
import logging
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal, Protocol

from handoff import imageref, templates
from handoff.ci_env import CiContext, detect
from handoff.config import Config, load_config
from handoff.edit.bump import BumpResult, apply_plan, current_image, plan_bump
from handoff.errors import ForgeConflict, GitError, HandoffError, ImageNotDeclared, UsageError
from handoff.forge import ForgeSettings, Proposal, ProposalRequest, make_forge
from handoff.forge.base import ApiCommit, ApiCommitter, Forge
from handoff.git.repo import DEFAULT_IDENTITY, GitAuth, Identity, Repo, validate_ref
from handoff.imageref import ImageRef
from handoff.manifests.canonical import canonical_yaml
from handoff.manifests.model import RenderedObject
from handoff.manifests.plain import read_text
from handoff.manifests.sensitive import SensitiveField, composed_parts, rules_for, scrub, secret_strings
from handoff.redact import redact
from handoff.registry import digest_resolver
from handoff.render import render_env
from handoff.report.model import Finding, Severity, ValidationReport
from handoff.report.proposal import Operation, ProposeResult
from handoff.report.writers.markdown import findings_table
from handoff.retry import RetryPolicy, TemporaryError, retry_counted
from handoff.versions import is_downgrade
from handoff.workflows.branches import rolling_branch
from handoff.workflows.plan import Plan, plan_env
from handoff.workflows.verify import RenderUnavailable, verify_render

log = logging.getLogger(__name__)

Mode = Literal["pr", "direct"]
PROPOSAL_FILES = ".handoff/proposals"
DEFAULT_BRANCH_TEMPLATE = "handoff/{env}/{app}"
MAX_FINDINGS_IN_BODY = 50
# GitHub caps a PR body at 65,536 characters; the rendered diff gets at most this share of it.
MAX_RENDERED_DIFF_CHARS = 30_000


class Editor(Protocol):
    """Reads and writes an app's image in a checked-out config repo (``BumpEditor`` by default)."""

    def current(self, repo: Path, app: str, env: str | None) -> ImageRef | None: ...

    def apply(self, repo: Path, image: ImageRef, app: str, env: str | None) -> BumpResult: ...


class BumpEditor:
    """The byte-exact bump library of ``handoff.edit``."""

    def current(self, repo: Path, app: str, env: str | None) -> ImageRef | None:
        try:
            return current_image(repo, app=app, env=env)
        except ImageNotDeclared:
            return None  # e.g. a prod overlay that has never pinned the image: the proposal adds it

    def apply(self, repo: Path, image: ImageRef, app: str, env: str | None) -> BumpResult:
        """Bump, proven by rendering the environments it touches before anything is written."""
        plan = plan_bump(repo, image, app=app, env=env)
        with contextlib.suppress(RenderUnavailable):  # the plan of the edited tree then says why
            verify_render(plan, load_config(repo), plan.environments)
        return apply_plan(plan)


# The plan of an environment in a checkout, or None when the config does not say how to render it.
# Raises HandoffError when it cannot be made (the proposal then says why).
Validator = Callable[[Path, "Config | None", str], "Plan | None"]


@dataclass(frozen=True)
class Verdict:
    """What a proposal says about the plan of the edited tree."""

    status: Literal["passed", "failed", "skipped"]
    report: ValidationReport | None = None
    markdown: str = ""
    objects: tuple[RenderedObject, ...] = ()  # the env's render after the edit (for the rendered diff)
    error: str = ""  # why validation could not run at all (then ``report`` holds it as one finding)


def judge(validator: Validator, repo: Path, config: Config | None, env: str) -> Verdict:
    try:
        plan = validator(repo, config, env)
    except HandoffError as e:
        # the cause travels as a finding too, so CI annotations, JUnit and the JSON report carry it
        cause = Finding("could-not-validate", Severity.ERROR, str(e), e.file or "", e.line or 1)
        return Verdict("failed", ValidationReport(findings=(cause,)), f"Validation could not run: `{e}`",
                       error=str(e))
    if plan is None:
        return Verdict("skipped")
    status: Literal["passed", "failed"] = "failed" if plan.failed() else "passed"
    return Verdict(status, plan.report, findings_markdown(plan.report, status), plan.objects)


@dataclass(frozen=True)
class ProposeOptions:
    image: str
    app: str
    env: str
    config_repo: str
    forge: str = "local"
    forge_settings: ForgeSettings = field(default_factory=ForgeSettings)
    mode: Mode = "pr"
    base: str | None = None
    branch_template: str | None = None
    on_invalid: Literal["fail", "comment"] = "fail"
    resolve_digest: bool = False
    allow_downgrade: bool = False
    labels: tuple[str, ...] = ()
    reviewers: tuple[str, ...] = ()
    assignees: tuple[str, ...] = ()
    draft: bool = False
    auto_merge: bool = False
    delete_branch: bool = False
    sign: str | None = None
    author: Identity | None = None
    dry_run: bool = False
    git_auth: GitAuth | None = None
    max_attempts: int = 20
    backoff: float = 0.2
    max_backoff: float = 3.0
    workdir: Path | None = None
    ci: CiContext | None = None


class _Retry(TemporaryError):
    """Somebody moved the branch under us: fetch again and redo the edit."""

    log_level = logging.INFO

    def giving_up(self, what: str, attempts: int) -> HandoffError:
        return GitError(f"{what} still rejected after {attempts} attempts: {self.message}")


def propose(opts: ProposeOptions, *, editor: Editor | None = None,
            validator: Validator | None = None) -> ProposeResult:
    """Run one propose; see the module docstring. Raises ``HandoffError`` on expected failures."""
    image = resolve_image(opts)
    with config_checkout(opts, "propose") as repo:
        return propose_in(repo, image, opts, editor=editor, validator=validator)


def resolve_image(opts: ProposeOptions) -> ImageRef:
    image = imageref.parse(opts.image)
    if opts.resolve_digest:
        resolved = digest_resolver().resolve(image)
        image = replace(image, digest=resolved.digest)
    return image


@contextmanager
def config_checkout(opts: ProposeOptions, purpose: str) -> Iterator[Repo]:
    """An empty clone of the config repo in a scratch directory that goes away afterwards."""
    parent = Path(tempfile.mkdtemp(prefix=f"handoff-{purpose}-", dir=opts.workdir))
    try:
        yield Repo.init(parent / "repo", opts.config_repo, auth=opts.git_auth)
    finally:
        shutil.rmtree(parent, ignore_errors=True)


def propose_in(repo: Repo, image: ImageRef, opts: ProposeOptions, *, editor: Editor | None = None,
               validator: Validator | None = None) -> ProposeResult:
    """Propose ``image`` with a clone of the config repo (``config_checkout``) that the caller may
    have used already (promote reads the source environment from it): every attempt fetches afresh."""
    return _Run(opts, image, repo, editor or BumpEditor(), validator or default_validator).run()


class _Run:
    def __init__(self, opts: ProposeOptions, image: ImageRef, repo: Repo, editor: Editor,
                 validator: Validator) -> None:
        self.opts = opts
        self.image = image
        self.repo = repo
        self.editor = editor
        self.validator = validator
        self.ci = opts.ci or detect()
        self.identity = opts.author or DEFAULT_IDENTITY
        self._pristine: str | None = None  # the commit the work tree is a clean checkout of, if known
        self._config: Config | None = None  # the .handoff.yaml of that checkout
        self._default: str | None = None  # the remote's default branch, asked once

    # -- setup ------------------------------------------------------------------------------------
    def _base_and_config(self) -> tuple[str, Config | None]:
        repo = self.repo
        base = self.opts.base or self._default_branch()
        validate_ref(base)
        commit = repo.fetch(base)[base]
        repo.checkout(commit)
        self._pristine = commit
        config = load_config(repo.path)
        if self.opts.base is None and config is not None:
            environment = config.environments.get(self.opts.env)
            wanted = (environment.branch if environment else None) or config.propose.base
            if wanted and wanted != base:
                base = validate_ref(wanted)
                self._pristine = repo.fetch(base)[base]
                repo.checkout(self._pristine)
                config = load_config(repo.path)
        self._config = config
        return base, config

    def _default_branch(self) -> str:
        if self._default is None:
            self._default = self.repo.default_branch()
        return self._default

    def _env_for_edit(self, config: Config | None) -> str | None:
        # Without a config (marker-only repo) or for an env it does not know, --env only names things.
        if config is None or self.opts.env not in config.environments:
            return None
        return self.opts.env

    def _branch_name(self, config: Config | None, base: str) -> str:
        template = self.opts.branch_template or (config.propose.branch if config else DEFAULT_BRANCH_TEMPLATE)
        protected = [base, self._default_branch()]
        if config is not None:
            protected += [config.propose.base or "", *(e.branch or "" for e in config.environments.values())]
        return rolling_branch(template, env=self.opts.env, app=self.opts.app, protected=protected)

    # -- the loop ---------------------------------------------------------------------------------
    def run(self) -> ProposeResult:
        forge = None
        if self.opts.mode == "pr" or self.opts.sign == "api":
            # Built in a dry run too (construction calls nothing), so a dry run refuses what a real run
            # would: no token, no project, --sign api on a forge that cannot sign. Never used then.
            forge = make_forge(self.opts.forge, self.opts.forge_settings, self.repo, self.opts.config_repo)
        if self.opts.sign == "api" and not isinstance(forge, ApiCommitter):
            raise UsageError(f"--sign api needs a forge that creates signed commits itself (github), "
                             f"not {self.opts.forge}; use --sign gpg or ssh")
        if self.opts.dry_run:
            forge = None
        # After the forge: a missing token or project is refused before anything is cloned.
        base, config = self._base_and_config()
        branch = base if self.opts.mode == "direct" else self._branch_name(config, base)
        policy = RetryPolicy(attempts=self.opts.max_attempts, base_delay=2 * self.opts.backoff,
                             max_delay=self.opts.max_backoff)  # full jitter: racing jobs spread out
        return retry_counted(lambda attempt: replace(self._attempt(base, branch, forge), attempts=attempt),
                             policy, what=f"push to {branch}")

    def _attempt(self, base: str, branch: str, forge: Forge | None) -> ProposeResult:
        repo = self.repo
        names = (base, branch) if branch != base else (base,)
        heads = repo.remote_heads(*names)
        if base not in heads:
            raise GitError(f"branch {base!r} does not exist in the config repo")
        fetched = repo.ensure({n: heads[n] for n in names if n in heads})
        base_sha = fetched[base]
        branch_sha = fetched.get(branch) if branch != base else None
        config = self._config
        if self._pristine != base_sha:  # the first attempt usually finds the tree set up already
            repo.checkout(base_sha)
            config = load_config(repo.path)
        self._pristine = None  # from here on the tree gets edited
        env = self._env_for_edit(config)
        validate_ref(base)
        previous = self.editor.current(repo.path, self.opts.app, env)
        highest = previous.tag if previous else None
        if branch_sha:
            repo.checkout(branch_sha)
            on_branch = self.editor.current(repo.path, self.opts.app, env)
            repo.checkout(base_sha)
            # the branch may already propose a higher version than the base has: never go below it
            if on_branch and on_branch.tag and (highest is None or is_downgrade(on_branch.tag, highest)):
                highest = on_branch.tag
        existing = forge.find_open(branch, base) if forge is not None and self.opts.mode == "pr" else None
        empty = ProposeResult("none", branch, head_sha=branch_sha or base_sha,
                              pr_number=existing.number or None if existing else None,
                              pr_url=existing.url if existing else "", image=str(self.image),
                              previous=str(previous or ""))
        if not self.opts.allow_downgrade and is_downgrade(highest, self.image.tag):
            return replace(empty, message=f"{self.image.tag} is lower than {highest}; not downgrading "
                                          "(use --allow-downgrade)")
        rendered_before = _rendered_before(repo.path, config, self.opts.env)
        outcome = self.editor.apply(repo.path, self.image, self.opts.app, env)
        if not outcome.changed:
            return self._already_there(empty, base=base, base_sha=base_sha, branch=branch,
                                       branch_sha=branch_sha, forge=forge, existing=existing)
        validation = judge(self.validator, repo.path, config, self.opts.env)
        rules = rules_for(config.sensitive if config else ())
        values = self._values(previous, outcome.diff, validation)
        values["rendered_diff"] = _rendered_section(rendered_before, validation, self.opts.env, rules)
        # a Secret's value may also be rendered elsewhere (an env var) or sit next to the image in a values
        # file: no part of the title, body or commit message may carry it
        secrets = secret_strings((o.obj for o in (*(rendered_before or ()), *validation.objects)), rules)
        # and each scalar of the bumped values files a chart composes into a Secret's value (a DSN's password)
        secrets |= composed_parts(_texts(repo.path, outcome.files), secrets,
                                  public=(str(self.image), str(previous or "")))
        values = {key: scrub(text, secrets) for key, text in values.items()}
        if validation.status == "failed" and self.opts.on_invalid == "fail":
            return replace(empty, validation="failed", report=validation.report, diff=outcome.diff,
                           changed_files=outcome.files, message="validation failed; nothing proposed",
                           error=validation_cause(validation))
        request = self._request(config, branch, base, values)
        if self.opts.dry_run:  # nothing committed, pushed or asked of the forge
            return self._dry_run(empty, outcome, validation, request, branch_sha)
        if forge is not None:
            self._write_files(forge.branch_files(request, "open"))
        commit_template = templates.DEFAULT_COMMIT
        message = redact(templates.render(commit_template, values, limit=templates.MAX_BODY_CHARS))
        head = repo.commit(message, identity=self.identity, sign=self._git_sign())
        done = replace(empty, changed_files=outcome.files, validation=validation.status,
                       report=validation.report, diff=outcome.diff, head_sha=head,
                       title=request.title, body=request.body)
        if self.opts.mode == "direct":
            return self._push_direct(done, head, base, base_sha=base_sha, forge=forge)
        assert forge is not None
        return self._push_pr(done, head=head, branch=branch, branch_sha=branch_sha, forge=forge,
                             existing=existing, request=request)

    # -- outcomes ---------------------------------------------------------------------------------
    def _already_there(self, empty: ProposeResult, *, base: str, base_sha: str, branch: str,
                       branch_sha: str | None, forge: Forge | None,
                       existing: Proposal | None) -> ProposeResult:
        if forge is None or existing is None:
            return replace(empty, message=f"{self.opts.app} already runs {self.image} in {self.opts.env}")
        comment = (f"Closed by handoff: `{self.opts.env}` already has `{self.image}` "
                   f"for {self.opts.app}; nothing left to propose.")
        title = f"handoff: {self.opts.app} in {self.opts.env} (closed)"
        request = ProposalRequest(head=branch, base=base, title=title, body=comment,
                                  app=self.opts.app, env=self.opts.env)
        files = forge.branch_files(request, "closed")
        if files and not self.opts.dry_run:
            self._write_files(files)
            head = self.repo.commit(f"handoff: close proposal for {self.opts.app} in {self.opts.env}",
                                    identity=self.identity, sign=self._git_sign())
            if not self.repo.push(head, branch, lease=branch_sha or "", force=True).ok:
                raise _Retry("rolling branch moved while closing")
            empty = replace(empty, head_sha=head)
        closed = existing if self.opts.dry_run else forge.close(existing, comment)
        return replace(empty, operation="closed", pr_url=closed.url,
                       message=f"config already at {self.image}; proposal closed")

    def _push_direct(self, done: ProposeResult, head: str, base: str, *, base_sha: str,
                     forge: Forge | None) -> ProposeResult:
        if self.opts.dry_run:
            return replace(done, operation="updated", message="dry run: would commit to " + base)
        head = self._publish(head, base, parent=base_sha, lease=None, forge=forge)
        return replace(done, operation="updated", head_sha=head, message=f"committed {self.image} to {base}")

    def _publish(self, head: str, branch: str, *, parent: str, lease: str | None, forge: Forge | None) -> str:
        """Put ``head`` on ``branch``; return the commit now there. ``lease`` as in ``Repo.push``
        (None: fast-forward only). With ``--sign api`` the forge re-creates the commit itself (signed)
        from the same changes, so the returned commit is the forge's, not ``head``."""
        if self.opts.sign != "api":
            pushed = self.repo.push(head, branch, lease=lease, force=lease is not None)
            if not pushed.ok:
                raise _Retry(pushed.rejected_reason)
            return head
        assert isinstance(forge, ApiCommitter)
        commit = ApiCommit(branch=branch, parent=parent, base_tree=self.repo.tree_of(parent),
                           message=self.repo.message(head), changes=self.repo.file_changes(parent, head),
                           lease=lease)
        published = forge.commit_via_api(commit)
        if published is None:
            raise _Retry(f"{branch} moved while committing through the forge API")
        return published

    def _push_pr(self, done: ProposeResult, *, head: str, branch: str, branch_sha: str | None, forge: Forge,
                 existing: Proposal | None, request: ProposalRequest) -> ProposeResult:
        repo = self.repo
        up_to_date = branch_sha is not None and repo.same_content(head, branch_sha,
                                                                  excluding=(PROPOSAL_FILES,))
        if up_to_date and existing is not None and forge.is_current(existing, request):
            return replace(done, operation="none", head_sha=branch_sha or head,
                           message="the rolling branch already proposes this image")
        if self.opts.dry_run:
            return replace(done, operation="updated" if existing else "created", message="dry run")
        # Same change, new description (e.g. a rerun's pipeline URL): like create-pull-request, that
        # updates the PR, not the branch. Only the local forge, which keeps the description in the
        # branch, needs a push, and that commit touches nothing but its proposal files.
        if up_to_date and branch_sha is not None and repo.same_content(head, branch_sha):
            head = branch_sha
        else:
            parent = self.repo.parent_of(head) or head
            head = self._publish(head, branch, parent=parent, lease=branch_sha or "", forge=forge)
        request = replace(request, head_sha=head)
        if existing is not None:
            proposal = forge.update(existing, request)
            operation: Operation = "updated"
        else:
            try:
                proposal = forge.create(request)
                operation = "created"
            except ForgeConflict:  # created by a racing job a moment ago: update it instead
                found = forge.find_open(branch, request.base)
                if found is None:
                    raise
                proposal = forge.update(found, request)
                operation = "updated"
        what = "the proposal's description" if up_to_date and operation == "updated" else "proposal"
        return replace(done, operation=operation, head_sha=head, pr_number=proposal.number or None,
                       pr_url=proposal.url, message=f"{operation} {what} on {branch}")

    def _dry_run(self, empty: ProposeResult, outcome: BumpResult, validation: Verdict,
                 request: ProposalRequest, branch_sha: str | None) -> ProposeResult:
        if self.opts.mode == "direct":
            operation: Operation = "updated"
            message = f"dry run: would commit to {request.base}"
        else:
            operation = "updated" if branch_sha else "created"
            message = f"dry run: would {operation[:-1]} the proposal on {request.head} (no forge call made)"
        return replace(empty, operation=operation, changed_files=outcome.files, validation=validation.status,
                       report=validation.report, diff=outcome.diff, message=message,
                       title=request.title, body=request.body)

    # -- helpers ----------------------------------------------------------------------------------
    def _git_sign(self) -> str | None:
        return self.opts.sign if self.opts.sign in ("gpg", "ssh") else None

    def _write_files(self, files: Mapping[str, bytes]) -> None:
        for relative, data in files.items():
            path = self.repo.path / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)

    def _values(self, previous: ImageRef | None, diff: str, validation: Verdict) -> dict[str, str]:
        return {
            "app": self.opts.app,
            "env": self.opts.env,
            "image": str(self.image),
            "tag": self.image.tag or "",
            "digest": self.image.digest or "(not pinned)",
            "repository": self.image.name,
            "previous": str(previous) if previous else "(none)",
            "source_commit": self.ci.source_commit or "(unknown)",
            "source_repo": self.ci.source_repo or "(unknown)",
            "pipeline_url": self.ci.pipeline_url or "(unknown)",
            "diff": diff.rstrip("\n"),
            "validation": validation.markdown or f"Validation: {validation.status}.",
        }

    def _request(self, config: Config | None, branch: str, base: str,
                 values: Mapping[str, str]) -> ProposalRequest:
        settings = config.propose if config else None
        title_t = settings.title if settings and settings.title else templates.DEFAULT_TITLE
        body_t = settings.body if settings and settings.body else templates.DEFAULT_BODY
        return ProposalRequest(
            head=branch, base=base, app=self.opts.app, env=self.opts.env,
            title=redact(templates.render(title_t, values, limit=templates.MAX_TITLE_CHARS)),
            body=redact(templates.render(body_t, values, limit=templates.MAX_BODY_CHARS,
                                         note=templates.BODY_CUT_NOTE)),
            labels=self.opts.labels or (settings.labels if settings else ()),
            reviewers=self.opts.reviewers or (settings.reviewers if settings else ()),
            assignees=self.opts.assignees, draft=self.opts.draft, auto_merge=self.opts.auto_merge,
            delete_branch=self.opts.delete_branch,
        )


def _texts(repo: Path, files: Sequence[str]) -> Iterator[tuple[str, str]]:
    """``(file, text)`` of each bumped file (values files); one too big to read is the diff's problem."""
    for name in files:
        with contextlib.suppress(HandoffError, OSError):
            yield name, read_text(repo / name, name)


def _renders(config: Config | None, env: str) -> bool:
    return config is not None and env in config.environments and config.environments[env].render is not None


def _rendered_before(repo: Path, config: Config | None, env: str) -> tuple[RenderedObject, ...] | None:
    """The env's render before the edit (nothing when it cannot be rendered), or None when the
    config does not say how to render it."""
    if config is None or not _renders(config, env):
        return None
    try:
        return render_env(repo, config, env).objects
    except HandoffError:
        return ()


def _rendered_section(before: tuple[RenderedObject, ...] | None, validation: Verdict, env: str,
                      rules: tuple[SensitiveField, ...]) -> str:
    if before is None:
        return f"_No render is configured for `{env}` (`environments.{env}.render` in .handoff.yaml)._"
    return rendered_diff(before, validation.objects, env, rules)


def rendered_diff(before_objects: Sequence[RenderedObject], after_objects: Sequence[RenderedObject], env: str,
                  rules: Sequence[SensitiveField] = rules_for()) -> str:
    """The rendered-manifest change as a markdown section body. Sensitive values show as their key
    and a short hash saying ``changed``/``added``/``removed``, never as the value, also where the same
    value is rendered in another field (an env var set from the Secret's value)."""
    before = canonical_yaml(before_objects, rules, against=after_objects, side="before")
    after = canonical_yaml(after_objects, rules, against=before_objects, side="after")
    if before == after:
        return "_The rendered manifests do not change._"
    lines = difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True),
                                 fromfile=f"a/{env} (base)", tofile=f"b/{env} (proposed)")
    secrets = secret_strings((o.obj for o in (*before_objects, *after_objects)), rules)
    text = scrub("".join(lines), secrets)
    if len(text) > MAX_RENDERED_DIFF_CHARS:
        text = text[:MAX_RENDERED_DIFF_CHARS].rsplit("\n", 1)[0] + "\n… (rendered diff truncated)\n"
    return f"```diff\n{text.rstrip()}\n```"


def findings_markdown(report: ValidationReport, status: str) -> str:
    table = findings_table(report.findings, max_rows=MAX_FINDINGS_IN_BODY, left_out="not shown")
    return "\n".join([f"**{status}**: {report.summary()}", "", *table])


def validation_cause(validation: Verdict, shown: int = 3) -> str:
    """One line saying why ``validation`` failed: its error, else its first findings."""
    if validation.error:
        return f"validation could not run: {validation.error}"
    findings = validation.report.findings if validation.report else ()
    worst = sorted(findings, key=lambda f: -f.severity)[:shown]
    causes = "; ".join(f"{f.file}:{f.line}: {f.rule}: {f.message}" for f in worst)
    more = f" (and {len(findings) - shown} more)" if len(findings) > shown else ""
    return redact(" ".join(f"validation failed: {causes or 'no findings reported'}{more}".splitlines()))


def default_validator(repo: Path, config: Config | None, env: str) -> Plan | None:
    """The plan of the environment when the config says how to render it; else None (skipped)."""
    if config is None or not _renders(config, env):
        return None
    return plan_env(repo, config, env)


__all__ = ["BumpEditor", "Editor", "ProposeOptions", "ProposeResult", "Validator", "Verdict", "propose",
           "propose_in"]
