"""atk19: breaks of issue 19's promises about deployment results on the commit (``handoff wait``,
``handoff status``, promote's health gate, the reconciler's status reporter), over the real git server
and the local forge's notes ref. Each test FAILS today; its assertion says what should hold."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from handoff.cli import main
from handoff.commitstatus import NOTES_REF, DeployState, LocalStatuses
from handoff.errors import ConfigError
from handoff.git.command import GitAuth
from handoff.git.notes import GitNotes
from handoff.reconciler import health
from handoff.reconciler.config import Source, StatusSettings, load_settings
from handoff.reconciler.metrics import Metrics
from handoff.reconciler.report_status import StatusReporter
from handoff.reconciler.status import SUCCEEDED, PassResult
from handoff.workflows.promote import EXIT_UNHEALTHY
from tests.harness.git_server import GitServer
from tests.reconciler.gitrepo import WorkRepo

CONFIG = """\
environments:
  dev: {}
  prod: {}
apps:
  web:
    image: registry.example/web
    targets:
      - type: marker
        path: envs/{env}/values.yaml
"""


def values(tag: str) -> str:
    return f"image: registry.example/web:{tag} # handoff:image web\n"


class Repo:
    """The config repo: ``old`` both envs at 1.0.0, ``bumped`` dev at 1.1.0."""

    def __init__(self, server: GitServer, tmp_path: Path, name: str = "config") -> None:
        self.server, self.tmp_path, self.name = server, tmp_path, name
        self.url = server.create_repo(name, {".handoff.yaml": CONFIG, "envs/dev/values.yaml": values("1.0.0"),
                                             "envs/prod/values.yaml": values("1.0.0")})
        self.auth_url = self.url.replace("http://", f"http://{server.username}:{server.password}@")
        self.work = WorkRepo(tmp_path / "work", self.auth_url)
        self.old = self.work.commit({}, "empty")
        self.bumped = self.work.commit({"envs/dev/values.yaml": values("1.1.0")}, "dev: web 1.1.0")

    @property
    def auth(self) -> GitAuth:
        return GitAuth(str(self.server.username), str(self.server.password))

    def post(self, commit: str, state: DeployState, env: str = "dev", key: bytes | None = None) -> None:
        notes = GitNotes(self.url, self.tmp_path / "notes", NOTES_REF, auth=self.auth)
        LocalStatuses(notes, key=key).post(commit, f"handoff/{env}", state, f"{state} for the test")

    def read(self, commit: str, env: str = "dev") -> DeployState | None:
        notes = GitNotes(self.url, self.tmp_path / "notes-read", NOTES_REF, auth=self.auth)
        found = LocalStatuses(notes).read(commit).get(f"handoff/{env}")
        return found.state if found else None

    def cli(self, *args: str) -> int:
        return main([*args, "--config-repo", self.url, "--forge", "local", "--token-env", "STATUS_TOKEN",
                     "--git-username", str(self.server.username)])


@pytest.fixture
def repo(git_server: GitServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Repo:
    monkeypatch.setenv("STATUS_TOKEN", str(git_server.password))
    return Repo(git_server, tmp_path)


def test_status_names_a_malformed_image_line_instead_of_showing_no_image(
        repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    """`handoff status` on a config repo whose dev image line does not parse: a one-line error naming
    the file (and line), not a row saying dev declares no image (which also hides a pending promotion)."""
    repo.work.commit({"envs/dev/values.yaml": "image: registry.example/web:1.2.0@sha256:nothex "
                                              "# handoff:image web\n"}, "dev: broken image line")
    code = repo.cli("status", "--output", "json")
    captured = capsys.readouterr()
    assert code != 0, f"status reported a broken image line as 'no image':\n{captured.out}"
    err = captured.err.strip().splitlines()
    assert len(err) == 1 and "envs/dev/values.yaml" in err[0]


def test_wait_when_the_forge_is_unreachable_is_not_reported_as_degraded_or_failed(
        repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    """The status store (here the config repo's notes ref) is down: `handoff wait` must not exit 1, which
    its contract reserves for "the environment is degraded or failed"; a pipeline would roll back."""
    repo.server.stop()
    code = main(["wait", "--env", "dev", "--commit", repo.bumped, "--timeout", "2s", "--interval", "1s",
                 "--config-repo", repo.url, "--forge", "local", "--token-env", "STATUS_TOKEN",
                 "--git-username", str(repo.server.username)])
    assert code not in (0, 1), f"forge down reported as exit {code}: {capsys.readouterr().err}"


def test_wait_for_an_image_superseded_by_a_failing_revision_is_not_healthy(repo: Repo) -> None:
    """dev was healthy at 1.1.0, then a later commit moved dev to 1.2.0 and the reconciler reports it
    failed: `handoff wait --image 1.1.0` answers from the old run of commits and exits 0, though dev no
    longer runs 1.1.0 and its newest result is a failure."""
    repo.post(repo.bumped, "healthy")
    later = repo.work.commit({"envs/dev/values.yaml": values("1.2.0")}, "dev: web 1.2.0")
    repo.post(later, "failed")
    code = repo.cli("wait", "--env", "dev", "--image", "registry.example/web:1.1.0", "--timeout", "2s",
                    "--interval", "1s")
    assert code != 0


def test_a_status_note_pushed_by_a_config_repo_author_does_not_open_the_promote_gate(repo: Repo) -> None:
    """Anyone who can push to the config repo can push refs/notes/handoff-status: a plain `git notes`
    write of `healthy` (no reconciler ever applied the commit) must not let promote through the gate."""
    clone = repo.tmp_path / "author"
    subprocess.run(["git", "clone", "-q", repo.auth_url, str(clone)], check=True)
    body = '{"statuses": {"handoff/dev": {"state": "healthy", "description": "healthy: trust me"}}}'
    subprocess.run(["git", "-C", str(clone), "-c", "user.name=mallory", "-c", "user.email=m@example",
                    "notes", "--ref", "handoff-status", "add", "-m", body, repo.bumped], check=True)
    subprocess.run(["git", "-C", str(clone), "push", "-q", "origin", NOTES_REF], check=True)
    # the fix (f19a): the reconciler signs its statuses with a key CI also holds (status.keyFile,
    # --status-key-file); an entry without a valid signature is ignored
    key = repo.tmp_path / "status.key"
    key.write_text("0123456789abcdef0123456789abcdef\n", encoding="utf-8")
    repo.post(repo.old, "degraded", key=key.read_bytes().strip())  # dev's reconciler never reported on 1.1.0
    code = main(["promote", "--app", "web", "--from", "dev", "--to", "prod", "--config-repo", repo.url,
                 "--token-env", "STATUS_TOKEN", "--git-username", str(repo.server.username),
                 "--status-key-file", str(key)])
    assert code == EXIT_UNHEALTHY


def test_two_sources_of_one_environment_do_not_hide_a_degraded_one(repo: Repo, tmp_path: Path) -> None:
    """Two Sources with env dev (two clusters, or two paths of one repo) post to the same context
    handoff/dev. Source a is degraded, b healthy: the one reporter's memory of (commit, context) flips
    with each post, so every pass of each source posts again and the context says whoever passed last."""
    settings = StatusSettings(kind="local", url=repo.url, token_file=str(tmp_path / "token"),
                              username=str(repo.server.username))
    (tmp_path / "token").write_text(str(repo.server.password), encoding="utf-8")
    reporter = StatusReporter(settings, tmp_path / "reporter", Metrics())
    a = Source(name="a", url=repo.url, env="dev", path="a")
    b = Source(name="b", url=repo.url, env="dev", path="b")
    degraded = {health.DEGRADED: 1, health.HEALTHY: 2}
    for _ in range(3):  # every pass of each source, same revision, same outcomes
        reporter.report(a, PassResult("a", SUCCEEDED, attempted_revision=repo.bumped,
                                      applied_revision=repo.bumped, health=degraded))
        reporter.report(b, PassResult("b", SUCCEEDED, attempted_revision=repo.bumped,
                                      applied_revision=repo.bumped, health={health.HEALTHY: 3}))
    # dev is degraded (source a) yet reads healthy; and each pass re-posts, so the context flips on
    # every pass and GitHub's 1000-statuses-per-commit cap is reached on a steady cluster
    assert repo.read(repo.bumped) != "healthy"
    posts = sum(s.value for m in reporter.posted.collect() for s in m.samples if s.name.endswith("_total"))
    assert posts <= 2, f"{posts} posts for two unchanged outcomes"


@pytest.mark.parametrize("target", ["https://grafana.example/d?rev={rev}", "https://g.example/{0}",
                                    "https://g.example/d?q={"])
def test_a_target_url_template_typo_is_a_config_error_not_a_crash_after_each_pass(tmp_path: Path,
                                                                                   target: str) -> None:
    """`status.context` is checked at load; `status.targetUrl` is not: its `.format()` runs in the
    after-pass hook, whose KeyError/IndexError/ValueError is no HandoffError, so it escapes the hook's
    `except HandoffError` and no status is ever posted. It should be a one-line ConfigError at load."""
    path = tmp_path / "config.yaml"
    path.write_text("sources:\n  - name: web\n    url: https://git.example/config.git\n"
                    f"status:\n  kind: local\n  targetUrl: '{target}'\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"status\.targetUrl"):
        load_settings(path)


def test_wait_for_an_abbreviated_commit_reads_its_status(repo: Repo) -> None:
    """CI often has the short SHA (`git rev-parse --short`, the PR page). dev is healthy at the commit:
    `handoff wait --commit <12 hex>` must say so (GitHub's API resolves it), not wait until the timeout."""
    repo.post(repo.bumped, "healthy")
    code = repo.cli("wait", "--env", "dev", "--commit", repo.bumped[:12], "--timeout", "2s", "--interval", "1s")
    assert code == 0


def test_wait_for_a_commit_the_config_repo_does_not_have_is_an_error_not_a_timeout(
        repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    """A mistyped or foreign SHA can never get a status: a one-line error naming --commit (exit 2), not
    ten minutes of waiting ending in 124 ("still rolling out")."""
    code = repo.cli("wait", "--env", "dev", "--commit", "0123456789abcdef0123456789abcdef01234567",
                    "--timeout", "2s", "--interval", "1s")
    err = capsys.readouterr().err
    assert code == 2, err
    assert "--commit" in err
