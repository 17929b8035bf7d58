"""``handoff wait`` and ``handoff status`` end to end over the real git server (tests/harness): the
statuses are a notes ref the reconciler would push (the local forge), the images what Git declares."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from handoff.cli import main
from handoff.commitstatus import NOTES_REF, LocalStatuses
from handoff.git.command import GitAuth
from handoff.git.notes import GitNotes
from handoff.imageref import parse
from handoff.workflows.wait import declares
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


@pytest.fixture
def repo(git_server: GitServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, list[str]]:
    """The config repo: C0 both envs at 1.0.0, C1 dev bumped to 1.1.0, C2 an unrelated change."""
    url = git_server.create_repo("config", {".handoff.yaml": CONFIG, "envs/dev/values.yaml": values("1.0.0"),
                                            "envs/prod/values.yaml": values("1.0.0")})
    monkeypatch.setenv("STATUS_TOKEN", str(git_server.password))
    auth_url = url.replace("http://", f"http://{git_server.username}:{git_server.password}@")
    work = WorkRepo(tmp_path / "work", auth_url)
    c0 = work.commit({}, "empty")
    c1 = work.commit({"envs/dev/values.yaml": values("1.1.0")}, "dev: web 1.1.0")
    c2 = work.commit({"README.md": "docs\n"}, "docs")
    return url, [c0, c1, c2]


def post(server: GitServer, url: str, where: Path, commit: str, context: str, state: str) -> None:
    notes = GitNotes(url, where, NOTES_REF, auth=GitAuth(str(server.username), str(server.password)))
    LocalStatuses(notes).post(commit, context, state, f"{state} for the test")  # type: ignore[arg-type]


def run(git_server: GitServer, url: str, *args: str) -> int:
    return main([*args, "--config-repo", url, "--token-env", "STATUS_TOKEN",
                 "--git-username", str(git_server.username)])


def test_wait_for_an_image_finds_the_commit_the_reconciler_applied(
        git_server: GitServer, repo: tuple[str, list[str]], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    url, (_, _c1, c2) = repo
    # the reconciler skipped c1 (c2 landed before its next pass) and reported on c2
    post(git_server, url, tmp_path / "n", c2, "handoff/dev", "healthy")
    code = run(git_server, url, "wait", "--env", "dev", "--image", "registry.example/web:1.1.0",
               "--timeout", "30s", "--interval", "100ms")
    assert code == 0
    assert f"dev is healthy at {c2[:12]}" in capsys.readouterr().out


def test_wait_exits_1_when_degraded_or_failed(git_server: GitServer, repo: tuple[str, list[str]],
                                              tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url, (c0, c1, _) = repo
    post(git_server, url, tmp_path / "n", c1, "handoff/dev", "degraded")
    post(git_server, url, tmp_path / "n", c0, "handoff/prod", "failed")
    assert run(git_server, url, "wait", "--env", "dev", "--commit", c1, "--timeout", "30s") == 1
    assert "dev is degraded" in capsys.readouterr().out
    assert run(git_server, url, "wait", "--env", "prod", "--commit", c0, "--timeout", "30s") == 1


def test_wait_times_out_with_124_and_progress_lines(git_server: GitServer, repo: tuple[str, list[str]],
                                                    tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url, (_, c1, _) = repo
    post(git_server, url, tmp_path / "n", c1, "handoff/dev", "applying")
    code = run(git_server, url, "wait", "--env", "dev", "--commit", c1, "--timeout", "300ms",
               "--interval", "100ms")
    captured = capsys.readouterr()
    assert code == 124
    assert "timed out" in captured.out and f"{c1[:12]} applying" in captured.out
    assert f"waiting for dev: {c1[:12]} applying" in captured.err  # not a terminal: plain lines
    # an image that never reached the config repo
    code = run(git_server, url, "wait", "--env", "dev", "--image", "registry.example/web:9.9.9",
               "--timeout", "200ms", "--interval", "100ms")
    assert code == 124
    assert "no commit of main declares registry.example/web:9.9.9 in dev" in capsys.readouterr().out


def test_wait_needs_exactly_one_of_commit_and_image(git_server: GitServer, repo: tuple[str, list[str]]) -> None:
    url, _ = repo
    assert run(git_server, url, "wait", "--env", "dev") == 2


def test_status_table_markdown_and_json(git_server: GitServer, repo: tuple[str, list[str]], tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    url, (c0, _, c2) = repo
    post(git_server, url, tmp_path / "n", c2, "handoff/dev", "healthy")
    post(git_server, url, tmp_path / "n", c0, "handoff/prod", "degraded")
    assert run(git_server, url, "status", "--output", "json") == 0
    data = json.loads(capsys.readouterr().out)
    rows = {r["env"]: r for r in data["rows"]}
    assert data["commit"] == c2
    assert rows["dev"] == {"app": "web", "env": "dev", "declared": "registry.example/web:1.1.0",
                           "applied_revision": c2, "health": "healthy", "description": "healthy: healthy for the test",
                           "promotion_pending": "prod"}
    assert (rows["prod"]["declared"], rows["prod"]["applied_revision"], rows["prod"]["health"],
            rows["prod"]["promotion_pending"]) == ("registry.example/web:1.0.0", c0, "degraded", "")
    assert run(git_server, url, "status", "--output", "markdown") == 0
    markdown = capsys.readouterr().out
    assert markdown.startswith("| app | env | declared image | applied | health | promotion |")
    assert f"| web | dev | registry.example/web:1.1.0 | {c2[:12]} | healthy | pending to prod |" in markdown
    assert run(git_server, url, "status") == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["app", "env", "declared", "image", "applied", "health", "promotion"]
    assert table[2].split()[:5] == ["web", "prod", "registry.example/web:1.0.0", c0[:12], "degraded"]


@pytest.mark.parametrize(("declared", "wanted", "same"), [
    ("registry.example/web:1.1.0", "registry.example/web:1.1.0", True),
    ("registry.example/web:1.1.0", "registry.example/web:1.2.0", False),
    ("registry.example/web:1.1.0@sha256:" + "a" * 64, "registry.example/web@sha256:" + "a" * 64, True),
    ("registry.example/web:1.1.0@sha256:" + "a" * 64, "registry.example/web:1.1.0", True),
    ("registry.example/web@sha256:" + "a" * 64, "registry.example/web:1.1.0@sha256:" + "b" * 64, False),
    ("registry.example/api:1.1.0", "registry.example/web:1.1.0", False),
    ("nginx:1.27", "docker.io/library/nginx:1.27", True),
])
def test_which_declared_image_is_the_one_waited_for(declared: str, wanted: str, same: bool) -> None:
    assert declares(parse(declared), parse(wanted)) is same


def test_wait_for_something_that_is_no_sha_is_a_usage_error_naming_commit(
        git_server: GitServer, repo: tuple[str, list[str]], capsys: pytest.CaptureFixture[str]) -> None:
    url, _ = repo
    code = run(git_server, url, "wait", "--env", "dev", "--commit", "main", "--timeout", "2s")
    err = capsys.readouterr().err
    assert code == 2 and "--commit" in err and len(err.strip().splitlines()) == 1


def test_wait_for_an_image_names_a_malformed_image_line(
        git_server: GitServer, repo: tuple[str, list[str]], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    """A broken image line newer than the image's commits is an error naming file:line, not a cut in the
    run of commits (which would hide the image or the commit that superseded it)."""
    url, _ = repo
    auth_url = url.replace("http://", f"http://{git_server.username}:{git_server.password}@")
    work = WorkRepo(tmp_path / "work", auth_url)
    work.commit({"envs/dev/values.yaml": "image: registry.example/web:1.2.0@sha256:nothex # handoff:image web\n"},
                "dev: broken")
    code = run(git_server, url, "wait", "--env", "dev", "--image", "registry.example/web:1.1.0",
               "--timeout", "2s", "--interval", "1s")
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "envs/dev/values.yaml:1:" in err[0], err


def test_wait_reads_on_through_transient_errors_until_it_knows(
        git_server: GitServer, repo: tuple[str, list[str]], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    """5xx answers (more than git's own retries absorb) are "not known yet": logged, polled again."""
    url, (_, c1, _) = repo
    post(git_server, url, tmp_path / "n", c1, "handoff/dev", "healthy")
    git_server.fail_next(12, 503)
    code = run(git_server, url, "wait", "--env", "dev", "--commit", c1, "--timeout", "5m", "--interval", "100ms")
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "not known yet" in captured.err and f"dev is healthy at {c1[:12]}" in captured.out


def test_wait_that_never_reads_the_statuses_exits_5(
        git_server: GitServer, repo: tuple[str, list[str]], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Unreachable until the deadline, or denied (401) at once: 5, never 1 (degraded or failed) or 124."""
    url, (_, c1, _) = repo
    monkeypatch.setenv("STATUS_TOKEN", "not-the-password")
    assert run(git_server, url, "wait", "--env", "dev", "--commit", c1, "--timeout", "5m") == 5
    assert "cannot read the statuses of dev" in capsys.readouterr().out
    monkeypatch.setenv("STATUS_TOKEN", str(git_server.password))
    git_server.stop()
    code = run(git_server, url, "wait", "--env", "dev", "--commit", c1, "--timeout", "1s", "--interval", "200ms")
    assert code == 5
    assert "could not read the statuses of dev in 1s" in capsys.readouterr().out


def test_wait_for_an_image_a_newer_revision_superseded_says_so(
        git_server: GitServer, repo: tuple[str, list[str]], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    url, (_, c1, _) = repo
    post(git_server, url, tmp_path / "n", c1, "handoff/dev", "healthy")
    auth_url = url.replace("http://", f"http://{git_server.username}:{git_server.password}@")
    work = WorkRepo(tmp_path / "work", auth_url)
    later = work.commit({"envs/dev/values.yaml": values("1.2.0")}, "dev: web 1.2.0")
    wait_for = ("wait", "--env", "dev", "--image", "registry.example/web:1.1.0", "--timeout", "30s")
    # no status on the newer commit yet: the image's own result still answers
    assert run(git_server, url, *wait_for) == 0
    post(git_server, url, tmp_path / "n", later, "handoff/dev", "healthy")
    assert run(git_server, url, *wait_for) == 1
    assert f"superseded by {later[:12]}, which is healthy" in capsys.readouterr().out


def test_wait_for_an_image_past_a_broken_commit_fixed_since(
        git_server: GitServer, repo: tuple[str, list[str]], tmp_path: Path) -> None:
    """A malformed image line fixed by the next commit: history keeps it, and it must not block waiting
    for the fixed image (it declares no image, ending the run)."""
    url, _ = repo
    auth_url = url.replace("http://", f"http://{git_server.username}:{git_server.password}@")
    work = WorkRepo(tmp_path / "work", auth_url)
    work.commit({"envs/dev/values.yaml": "image: registry.example/web:1.2.0@sha256:nothex # handoff:image web\n"},
                "dev: broken")
    fixed = work.commit({"envs/dev/values.yaml": values("1.2.0")}, "dev: web 1.2.0, fixed")
    post(git_server, url, tmp_path / "n", fixed, "handoff/dev", "healthy")
    assert run(git_server, url, "wait", "--env", "dev", "--image", "registry.example/web:1.2.0",
               "--timeout", "30s") == 0
