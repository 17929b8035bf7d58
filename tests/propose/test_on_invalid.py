"""End to end, PR mode with real validation: the bumped environment is rendered and schema-checked before
anything is pushed; ``--on-invalid fail`` refuses, ``--on-invalid comment`` proposes with the report."""

from __future__ import annotations

import json
import subprocess

import pytest

from handoff.cli import main
from handoff.workflows.propose import ProposeOptions
from tests.harness.git_server import GitServer
from tests.propose.helpers import propose_on, remote_branches, show

CONFIG = """\
environments:
  dev:
    render: {type: plain, path: envs/dev}
apps:
  web:
    image: registry.example/web
    targets:
      - type: marker
        path: envs/dev/web.yaml
"""
DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: registry.example/web:1.0.0 # handoff:image web
"""
TYPO = DEPLOYMENT.replace("  replicas: 2", "  replicsa: 2")


def config_repo(server: GitServer, name: str, deployment: str) -> str:
    return server.create_repo(name, {".handoff.yaml": CONFIG, "envs/dev/web.yaml": deployment})


def test_valid_render_is_proposed_with_a_passing_report(git_server: GitServer) -> None:
    """A render that validates is proposed, and the PR body says validation passed."""
    url = config_repo(git_server, "ok", DEPLOYMENT)
    result = propose_on(git_server, url, "registry.example/web:1.1.0")
    assert (result.operation, result.validation) == ("created", "passed")
    body = show(git_server, "ok", "handoff/dev/web", ".handoff/proposals/dev-web.md")
    assert "**passed**: 1 object in 1 file: 1 valid" in body


def test_on_invalid_fail_refuses_and_pushes_nothing(git_server: GitServer,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """--on-invalid fail (the default): exit 1, the finding is reported, no branch appears on the remote."""
    url = config_repo(git_server, "bad", TYPO)
    assert git_server.username and git_server.password
    argv = ["propose", "--image", "registry.example/web:1.1.0", "--app", "web", "--env", "dev",
            "--config-repo", url, "--git-username", git_server.username, "--token-env", "CFG_TOKEN",
            "--output", "json"]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CFG_TOKEN", git_server.password)
        assert main(argv) == 1
    data = json.loads(capsys.readouterr().out)
    assert (data["operation"], data["validation"]) == ("none", "failed")
    assert data["message"] == "validation failed; nothing proposed"
    assert remote_branches(git_server, "bad") == ["main"]


def test_on_invalid_comment_proposes_with_the_report_in_the_body(git_server: GitServer) -> None:
    """--on-invalid comment: the branch is pushed and the PR body carries the failing report (rule, file:line)."""
    url = config_repo(git_server, "commented", TYPO)
    result = propose_on(git_server, url, "registry.example/web:1.1.0", on_invalid="comment")
    assert (result.operation, result.validation) == ("created", "failed")
    assert not result.failed  # proposed on purpose: the CLI exits 0 and the reviewer sees the report
    assert "image: registry.example/web:1.1.0 # handoff:image web" in show(
        git_server, "commented", "handoff/dev/web", "envs/dev/web.yaml")
    body = show(git_server, "commented", "handoff/dev/web", ".handoff/proposals/dev-web.md")
    assert "**failed**" in body
    assert "| error | schema/unknown-field | envs/dev/web.yaml:6 |" in body


def test_options_default_to_failing(git_server: GitServer) -> None:
    """The library default is the safe one: without on_invalid nothing invalid is proposed."""
    assert ProposeOptions(image="x", app="a", env="e", config_repo="r").on_invalid == "fail"
    url = config_repo(git_server, "lib", TYPO)
    result = propose_on(git_server, url, "registry.example/web:1.1.0")
    assert result.failed and result.report is not None and result.report.failed()
    bare = str(git_server.bare_path("lib"))
    assert subprocess.run(["git", "--git-dir", bare, "rev-list", "--all", "--count"], check=True,
                          capture_output=True, text=True).stdout.strip() == "1"


def test_policies_of_the_environment_gate_the_proposal(git_server: GitServer) -> None:
    """The validation step runs the config's policies too: with ``require-image-digest`` on for the
    environment (its params), a tag-only image is refused; the same image pinned by digest is proposed."""
    config = CONFIG.replace("    render: {type: plain, path: envs/dev}\n",
                            "    render: {type: plain, path: envs/dev}\n"
                            "    params: {require-image-digest: {enabled: true}}\n")
    url = git_server.create_repo("policy", {".handoff.yaml": config, "envs/dev/web.yaml": DEPLOYMENT})
    refused = propose_on(git_server, url, "registry.example/web:1.1.0")
    assert refused.failed and refused.report is not None
    assert [f.rule for f in refused.report.findings if f.severity.name == "ERROR"] == ["require-image-digest"]
    assert remote_branches(git_server, "policy") == ["main"]
    pinned = propose_on(git_server, url, "registry.example/web:1.1.0@sha256:" + "c" * 64)
    assert (pinned.operation, pinned.validation) == ("created", "passed")
