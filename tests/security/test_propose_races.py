"""50 CI jobs racing on one config repo, as real `handoff.workflows.propose.propose` calls on parallel threads against the
harness git server (each request is its own `git http-backend` process, so pushes really race).

35 jobs bump 35 different apps straight onto ``main`` (direct mode), all in one shared file; 15 jobs bump the
same app ``web`` (in that same file) in PR mode with increasing semver tags, started in shuffled order. What the
remote must show afterwards: every app's update on ``main`` exactly once, one commit each, each commit
changing only its own line, nothing lost; the rolling ``web`` branch one commit on top of a ``main`` commit,
proposing the newest tag and nothing else.
"""

from __future__ import annotations

import random
import threading

import pytest

from handoff.workflows.propose import ProposeResult
from tests.harness.git_server import GitServer
from tests.propose.helpers import git, propose_on, show

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1500)]

DIRECT_APPS = [f"svc{i:02d}" for i in range(35)]
WEB_TAGS = [f"1.{i}.0" for i in range(1, 16)]
FILE = "images.yaml"


def initial_text() -> str:
    lines = [f"{a}: registry.example/{a}:1.0.0 # handoff:image {a}\n" for a in DIRECT_APPS]
    lines.insert(17, "web: registry.example/web:1.0.0 # handoff:image web\n")
    return "".join(lines)


def test_fifty_concurrent_proposes_land_once_each_and_the_newest_web_wins(git_server: GitServer) -> None:
    text = initial_text()
    url = git_server.create_repo("race50", {FILE: text})
    jobs: list[tuple[str, str, str]] = [(a, f"registry.example/{a}:2.0.0", "direct") for a in DIRECT_APPS]
    jobs += [("web", f"registry.example/web:{t}", "pr") for t in WEB_TAGS]
    random.Random(9).shuffle(jobs)
    start = threading.Barrier(len(jobs))
    results: dict[str, ProposeResult | BaseException] = {}

    def job(app: str, image: str, mode: str) -> None:
        try:
            start.wait()
            results[image] = propose_on(git_server, url, image, app=app, mode=mode, max_attempts=150,
                                        max_backoff=2.0)
        except BaseException as e:
            results[image] = e

    threads = [threading.Thread(target=job, args=j, name=j[1]) for j in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=1200)
    assert not [t.name for t in threads if t.is_alive()]

    errors = {image: repr(r) for image, r in results.items() if not isinstance(r, ProposeResult)}
    assert errors == {}
    outcomes = {image: r for image, r in results.items() if isinstance(r, ProposeResult)}
    assert len(outcomes) == 50
    assert {i: r.operation for i, r in outcomes.items() if "/web:" not in i and r.operation != "updated"} == {}
    # a lower tag that arrives after a higher one is refused as a downgrade, never applied over it
    web_ops = {i: r.operation for i, r in outcomes.items() if "/web:" in i}
    assert set(web_ops.values()) <= {"created", "updated", "none"}
    assert list(web_ops.values()).count("created") == 1

    bare = str(git_server.bare_path("race50"))
    # main: the seed commit plus exactly one commit per direct app, in a straight line
    assert git("--git-dir", bare, "rev-list", "--count", "main").strip() == str(1 + len(DIRECT_APPS))
    assert git("--git-dir", bare, "rev-list", "--merges", "--count", "main").strip() == "0"
    commits = git("--git-dir", bare, "rev-list", "--reverse", "main").split()[1:]
    landed = []
    for sha in commits:
        subject = git("--git-dir", bare, "log", "-1", "--format=%s", sha).strip()
        app = subject.split()[1]
        landed.append(app)
        changed = [line for line in git("--git-dir", bare, "show", "--format=", "--unified=0", sha).splitlines()
                   if line.startswith(("+", "-")) and not line.startswith(("+++", "---"))]
        assert changed == [f"-{app}: registry.example/{app}:1.0.0 # handoff:image {app}",
                           f"+{app}: registry.example/{app}:2.0.0 # handoff:image {app}"], sha
    assert sorted(landed) == sorted(DIRECT_APPS)
    on_main = show(git_server, "race50", "main", FILE)
    expected_main = "".join(line.replace(":1.0.0", ":2.0.0") if not line.startswith("web:") else line
                            for line in text.splitlines(keepends=True))
    assert on_main == expected_main

    # the rolling web branch: one commit on top of some main commit, newest tag, nothing else changed
    branch = "handoff/dev/web"
    assert git("--git-dir", bare, "rev-list", "--count", f"main..{branch}").strip() == "1"
    parent = git("--git-dir", bare, "rev-parse", f"{branch}^").strip()
    assert parent in [git("--git-dir", bare, "rev-parse", "main~0").strip(), *commits,
                      git("--git-dir", bare, "rev-list", "--max-parents=0", "main").strip()]
    base_text = git("--git-dir", bare, "show", f"{parent}:{FILE}")
    assert show(git_server, "race50", branch, FILE) == base_text.replace(
        "web: registry.example/web:1.0.0", f"web: registry.example/web:{WEB_TAGS[-1]}")
    assert f"registry.example/web:{WEB_TAGS[-1]}" in show(git_server, "race50", branch,
                                                          ".handoff/proposals/dev-web.md")
    attempts = sum(r.attempts for r in outcomes.values())
    print(f"50 proposes: {attempts} attempts in total, {len(git_server.requests)} git requests")
