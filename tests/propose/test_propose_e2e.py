"""End to end: handoff propose against a real git server over HTTP with basic auth (local forge)."""

from __future__ import annotations

import json
import os
import subprocess
import threading
from pathlib import Path

import pytest

from handoff.ci_env import CiContext
from handoff.cli import main
from handoff.git.repo import GitAuth
from handoff.workflows.propose import ProposeOptions, ProposeResult, propose
from tests.harness.git_server import GitServer

MARKERS = "web:\n  image: registry.example/web:1.0.0 # handoff:image web\nreplicas: 2\n"


def git(*args: str, cwd: Path | None = None) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def show(server: GitServer, name: str, ref: str, path: str) -> str:
    return git("--git-dir", str(server.bare_path(name)), "show", f"{ref}:{path}")


def run(server: GitServer, url: str, image: str, app: str = "web", **kw: object) -> ProposeResult:
    assert server.username and server.password
    opts = ProposeOptions(image=image, app=app, env="dev", config_repo=url, forge="local",
                          git_auth=GitAuth(server.username, server.password), backoff=0.05, max_backoff=0.5,
                          **kw)  # type: ignore[arg-type]
    return propose(opts)


def test_marker_repo_create_update_rerun_and_close(git_server: GitServer) -> None:
    """A marker-only repo (no .handoff.yaml): --env only names the branch; one rolling branch is created,
    updated in place by a newer image, left alone on a rerun, and closed when the base already has it."""
    url = git_server.create_repo("cfg", {"apps.yaml": MARKERS})

    first = run(git_server, url, "registry.example/web:1.1.0")
    assert (first.operation, first.branch) == ("created", "handoff/dev/web")
    assert first.changed_files == ("apps.yaml",)
    assert "web:1.1.0 # handoff:image web" in show(git_server, "cfg", "handoff/dev/web", "apps.yaml")
    record = json.loads(show(git_server, "cfg", "handoff/dev/web", ".handoff/proposals/dev-web.json"))
    assert record["state"] == "open" and record["base"] == "main"
    assert "registry.example/web:1.1.0" in show(git_server, "cfg", "handoff/dev/web", ".handoff/proposals/dev-web.md")

    second = run(git_server, url, "registry.example/web:1.2.0")
    assert second.operation == "updated" and second.head_sha != first.head_sha
    assert show(git_server, "cfg", "handoff/dev/web", "apps.yaml") == MARKERS.replace("1.0.0", "1.2.0")
    # one commit on top of main: the branch is rebuilt from the base, not stacked
    assert git("--git-dir", str(git_server.bare_path("cfg")), "rev-list", "--count", "main..handoff/dev/web").strip() == "1"

    assert run(git_server, url, "registry.example/web:1.2.0").operation == "none"
    downgrade = run(git_server, url, "registry.example/web:1.1.5")
    assert downgrade.operation == "none" and "not downgrading" in downgrade.message
    assert show(git_server, "cfg", "handoff/dev/web", "apps.yaml") == MARKERS.replace("1.0.0", "1.2.0")

    closed = run(git_server, url, "registry.example/web:1.0.0", allow_downgrade=True)
    assert closed.operation == "closed"
    record = json.loads(show(git_server, "cfg", "handoff/dev/web", ".handoff/proposals/dev-web.json"))
    assert record["state"] == "closed"
    assert show(git_server, "cfg", "main", "apps.yaml") == MARKERS  # the base was never touched


def test_twenty_concurrent_direct_proposes_all_land_exactly_once(git_server: GitServer) -> None:
    """20 CI jobs, 20 apps, one file, direct mode: every update lands once, none is lost."""
    apps = [f"app{i:02d}" for i in range(20)]
    text = "".join(f"{a}: registry.example/{a}:1.0.0 # handoff:image {a}\n" for a in apps)
    url = git_server.create_repo("race", {"images.yaml": text})
    results: dict[str, ProposeResult | BaseException] = {}

    def job(app: str) -> None:
        try:
            results[app] = run(git_server, url, f"registry.example/{app}:2.0.0", app=app, mode="direct",
                               max_attempts=40)
        except BaseException as e:
            results[app] = e

    threads = [threading.Thread(target=job, args=(a,)) for a in apps]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    failures = {a: r for a, r in results.items() if not isinstance(r, ProposeResult) or r.operation != "updated"}
    assert failures == {}
    assert show(git_server, "race", "main", "images.yaml") == text.replace(":1.0.0", ":2.0.0")
    bare = str(git_server.bare_path("race"))
    assert git("--git-dir", bare, "rev-list", "--count", "main").strip() == "21"
    messages = git("--git-dir", bare, "log", "--format=%s", "main").splitlines()
    assert sorted(messages[:-1]) == sorted(f"handoff: {a} registry.example/{a}:2.0.0 in dev" for a in apps)


def test_concurrent_same_app_pr_mode_ends_at_the_highest_version_unmixed(git_server: GitServer) -> None:
    """Racing PR-mode jobs for one app never leave a half-applied or mixed branch; semver highest wins."""
    text = "a: registry.example/web:1.0.0 # handoff:image web\nb: registry.example/web:1.0.0 # handoff:image web\n"
    url = git_server.create_repo("same", {"two.yaml": text})
    versions = ["1.3.0", "1.1.0", "1.6.0", "1.2.0", "1.5.0", "1.4.0"]
    errors: list[BaseException] = []

    def job(version: str) -> None:
        try:
            run(git_server, url, f"registry.example/web:{version}")
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=job, args=(v,)) for v in versions]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert errors == []
    assert show(git_server, "same", "handoff/dev/web", "two.yaml") == text.replace("1.0.0", "1.6.0")
    bare = str(git_server.bare_path("same"))
    assert git("--git-dir", bare, "rev-list", "--count", "main..handoff/dev/web").strip() == "1"


def test_cli_json_outputs_and_no_token_anywhere(git_server: GitServer, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI writes the CI outputs (stdout JSON and $GITHUB_OUTPUT); the git password appears in no
    output, log, server request line, proposal file or commit."""
    url = git_server.create_repo("cli", {"apps.yaml": MARKERS})
    assert git_server.password and git_server.username
    monkeypatch.setenv("CFG_TOKEN", git_server.password)
    out_file = tmp_path / "github_output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(out_file))
    argv = ["-vv", "propose", "--image", "registry.example/web:1.4.0", "--app", "web", "--env", "dev",
            "--config-repo", url, "--token-env", "CFG_TOKEN", "--git-username", git_server.username,
            "--output", "json"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert data["operation"] == "created" and data["branch"] == "handoff/dev/web"
    assert data["changed_files"] == ["apps.yaml"] and data["validation"] == "skipped"
    outputs = out_file.read_text()
    assert "operation<<" in outputs and "created" in outputs
    # a wrong token is a clean one-line error, also without the token
    monkeypatch.setenv("CFG_TOKEN", "wrong-" + git_server.password)
    assert main(argv) == 1
    failed = capsys.readouterr()
    bare = str(git_server.bare_path("cli"))
    everything = [captured.out, captured.err, failed.out, failed.err, outputs, *git_server.requests,
                  git("--git-dir", bare, "log", "--all", "-p")]
    for text in everything:
        assert git_server.password not in text
    errors = [line for line in failed.err.splitlines() if line.startswith("handoff: error:")]
    assert len(errors) == 1 and "Authentication failed" in errors[0]
    assert "CFG_TOKEN" not in os.environ.get("GIT_CONFIG_VALUE_0", "")


def test_rerun_with_a_new_description_updates_the_proposal_not_the_change(git_server: GitServer) -> None:
    """Same image, new pipeline URL: the proposal's description is updated (operation ``updated``), the
    proposed config change stays byte-identical, and the same rerun again is ``none``."""
    url = git_server.create_repo("desc", {"apps.yaml": MARKERS})
    first = run(git_server, url, "registry.example/web:1.1.0", ci=CiContext("gitlab", pipeline_url="https://ci/p/1"))
    second = run(git_server, url, "registry.example/web:1.1.0", ci=CiContext("gitlab", pipeline_url="https://ci/p/2"))
    assert (first.operation, second.operation) == ("created", "updated")
    assert second.message == "updated the proposal's description on handoff/dev/web"
    bare = str(git_server.bare_path("desc"))
    # the local forge keeps the description in the branch: only its proposal files changed
    assert git("--git-dir", bare, "diff", "--name-only", first.head_sha, second.head_sha).split() == [
        ".handoff/proposals/dev-web.json", ".handoff/proposals/dev-web.md"]
    assert "https://ci/p/2" in show(git_server, "desc", "handoff/dev/web", ".handoff/proposals/dev-web.md")
    again = run(git_server, url, "registry.example/web:1.1.0", ci=CiContext("gitlab", pipeline_url="https://ci/p/2"))
    assert again.operation == "none" and again.head_sha == second.head_sha
