"""How the CLI meets a careless user: -v after the command, a usage error in the JSON a CI step reads,
and every command's --help."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from handoff.cli import COMMANDS, main


def _handoff(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "handoff", *argv], capture_output=True, text=True, check=False,
                          timeout=120)


@pytest.mark.parametrize("argv", [
    ["propose", "--image", "a/b:1", "--app", "w", "--env", "d", "--config-repo", "x", "--mode", "PR",
     "--output", "json"],
    ["propose", "--output=json", "--image", "a/b:1", "--env", "d", "--config-repo", "x"],
    ["promote", "--app", "w", "--from", "dev", "--to", "prod", "--config-repo", "x", "--forge", "bitbucket",
     "--output", "json"],
], ids=["bad-choice", "missing-option", "promote-bad-forge"])
def test_a_usage_error_with_json_output_prints_the_json_result(argv: list[str],
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert data["operation"] == "none" and data["error"] and data["report"] is None
    assert f"handoff: error: {data['error']}" in captured.err


def test_a_usage_error_without_json_prints_only_the_error_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["propose", "--image", "a/b:1", "--app", "w", "--env", "d", "--config-repo", "x",
                 "--mode", "PR"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "'PR' is not one of" in captured.err


def test_verbose_after_the_command_is_the_same_as_before_it() -> None:
    after = _handoff("bump", "--image", "ghcr.io/acme/web:1.0.0", "--config-repo", "/nonexistent/repo", "-vv")
    before = _handoff("-vv", "bump", "--image", "ghcr.io/acme/web:1.0.0", "--config-repo", "/nonexistent/repo")
    assert "No such option" not in after.stderr
    assert (after.returncode, after.stderr) == (before.returncode, before.stderr)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_has_help_naming_verbose(command: str) -> None:
    done = _handoff(command, "--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"Usage: handoff {command}") and "-v, --verbose" in done.stdout
